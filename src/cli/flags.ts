import { Option } from 'commander';
import { REVOCATION_REASONS } from '../ca/revocation/reasons.js';

/**
 * The options more than one command takes, defined once and added per command (each command
 * gets its own Option object: commander keeps parse state on it). A command declares only the
 * options it reads, so the parser refuses the others.
 */
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export const db = (): Option => new Option('--db <dir>', 'the CA directory (default: etc/ssl, or CERTIFIED_DB)');
export const lockTimeout = (): Option => new Option('--lock-timeout <seconds>', 'how long to wait for another certified process (default 60)');
export const dryRun = (what = 'show what would be made, validate everything, write nothing'): Option => new Option('--dry-run', what);
export const json = (what = 'as JSON, for scripts'): Option => new Option('--json', what);
/** --json of the commands that change the CA or write files. */
export const jsonChange = (): Option => json('print what was done as one JSON document, and a failure as a JSON error (for scripts)');
/** For the commands that draw a progress line on a terminal (none on a pipe or under CI). */
export const quiet = (): Option => new Option('--quiet', 'draw no progress line on the terminal');

export const password = (what: string): Option => new Option('--password <password>', what);
export const caPassword = (what = 'password of the issuing CA key'): Option => new Option('--ca-password <password>', what);
export const rootPassword = (what = 'password of the root key'): Option => new Option('--root-password <password>', what);
export const intermediatePassword = (): Option =>
  new Option('--intermediate-password <password>', 'encrypt the intermediate key (then it is committed)');

export const issuer = (what = 'the issuing CA, by CN or file name (default: the intermediate, "ca")'): Option => new Option('--issuer <ca>', what);
export const name = (what = 'file name for the certificate (default: the CN, lower-case, spaces as dashes)'): Option => new Option('--name <name>', what);
/** --name of a certificate already in the CA (revoke, renew): shell completion offers the names in certs/. */
export const certificate = (what: string): Option => new Option('--name <certificate>', what);
export const days = (what: string): Option => new Option('--days <n>', what);
export const crlDays = (what = 'days until the next CRL update (default 7)'): Option => new Option('--crl-days <n>', what);
export const rootCrlDays = (what = "days until the next update of the root's CRL (default 365)"): Option => new Option('--root-crl-days <n>', what);

export const client = (): Option => new Option('--client', 'a client certificate (clientAuth only)');
export const server = (): Option => new Option('--server', 'a server certificate (serverAuth only)');
export const keyType = (): Option => new Option('--key-type <type>', 'key algorithm').choices(['ecdsa', 'rsa']);
export const bits = (): Option => new Option('--bits <n>', 'RSA key size (implies --key-type rsa; at least 2048)');

/**
 * Not commander's .choices(): parseReason takes any case (keyCompromise, keycompromise) and refuses
 * with the reasons and an example; completion reads the same list (see completion/surface.ts).
 */
export const reason = (): Option => new Option('--reason <reason>', `revocation reason: ${REVOCATION_REASONS.join(', ')}`);

export const crlUrl = (): Option => new Option('--crl-url <url>', 'CRL URL put in every certificate the intermediate issues');
export const rootCrlUrl = (): Option => new Option('--root-crl-url <url>', "CRL URL put in the intermediate (the root's CRL)");
export const ocspUrl = (): Option => new Option('--ocsp-url <url>', 'OCSP URL put in the AIA of the intermediate and the certificates');
export const permitDns = (): Option =>
  new Option('--permit-dns <domain>', 'the intermediate (with --csr: the new CA) may issue only for names under this domain (repeatable)').argParser(collect);
export const permitIp = (): Option =>
  new Option('--permit-ip <cidr>', 'the intermediate (with --csr: the new CA) may issue only for addresses in this range (repeatable)').argParser(collect);
export const permitEmail = (): Option =>
  new Option('--permit-email <domain>', 'the intermediate (with --csr: the new CA) may issue only for e-mail addresses at this domain or mailbox (repeatable)').argParser(collect);

/** The options of every command that opens the CA directory. */
export const store = (): Option[] => [db(), lockTimeout()];
/** For the commands that sign with a CA key, which may be on a PKCS#11 token. */
export const token = (): Option[] => [
  new Option('--pkcs11-module <path>', 'the PKCS#11 module of the token holding a CA key (or CERTIFIED_PKCS11_MODULE)'),
  new Option('--pin <pin>', "the token's user PIN (- reads stdin; or CERTIFIED_PKCS11_PIN, or a prompt)"),
  new Option('--root-pin <pin>', "the user PIN of the root's token (- reads stdin; or CERTIFIED_PKCS11_ROOT_PIN, or a prompt)"),
];
/** What a new leaf key and certificate take (issue, self-signed). */
export const leaf = (): Option[] => [name(), client(), server(), keyType(), bits(), days('validity in days (default 365)')];
