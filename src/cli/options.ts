/** The options of the commands that make or revoke certificates (init, issue, revoke, sign, request, self-signed); each declares only its own. */
export interface RootOptions {
  yes?: boolean;
  /** revoke --serial */
  serial?: string;
  ca?: boolean;
  db?: string;
  client?: boolean;
  server?: boolean;
  keyType?: string;
  bits?: string;
  days?: string;
  name?: string;
  password?: string;
  caPassword?: string;
  rootPassword?: string;
  intermediatePassword?: string;
  /** init: PKCS#11 URIs of CA keys on a token. */
  rootKey?: string;
  intermediateKey?: string;
  /** init --issuer: the sub-CA's key on a token. */
  key?: string;
  pin?: string;
  rootPin?: string;
  pkcs11Module?: string;
  crlUrl?: string;
  rootCrlUrl?: string;
  ocspUrl?: string;
  lockTimeout?: string;
  reason?: string;
  issuer?: string;
  /** `sign FILE`: the CSR file; `init --csr FILE`: an external engine's CA. */
  csr?: string;
  /** init --csr: the path length of the external CA. */
  pathlen?: string;
  crlDays?: string;
  rootCrlDays?: string;
  permitDns?: string[];
  permitIp?: string[];
  permitEmail?: string[];
  dryRun?: boolean;
  /** Print what was done as one JSON document (docs/json.md). */
  json?: boolean;
}
