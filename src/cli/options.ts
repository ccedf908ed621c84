/** The options of the root command (`certified [options] [subject...]`). */
export interface RootOptions {
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
  crlUrl?: string;
  rootCrlUrl?: string;
  ocspUrl?: string;
  lockTimeout?: string;
  revoke?: boolean;
  reason?: string;
  issuer?: string;
  selfSigned?: boolean;
  /** false with --no-sign */
  sign?: boolean;
  csr?: string;
  crlDays?: string;
  permitDns?: string[];
  permitIp?: string[];
  permitEmail?: string[];
  dryRun?: boolean;
}
