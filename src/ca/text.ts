/**
 * Text with options in it, for messages and hints. ca/ never spells a flag or an environment
 * variable: it names the option (`{ option: 'days' }`) and whoever shows the text spells it: the
 * CLI as `--days`, a manifest error as `days`, anyone else in words ("the number of days").
 */

/** An option the user gives, by what it is. */
export type OptionName =
  | 'ca' | 'revoke' | 'issuer' | 'name' | 'days' | 'crlDays' | 'keyType' | 'bits' | 'reason' | 'rootPassword'
  | 'permitDns' | 'permitIp' | 'permitEmail' | 'crlUrl' | 'rootCrlUrl' | 'ocspUrl' | 'out' | 'db' | 'lockTimeout' | 'allowRevoke' | 'expiring'
  | 'serial' | 'rootCrlDays'
  | 'acmeListen'
  | 'pkcs11Module' | 'pin' | 'rootPin' | 'rootKey' | 'intermediateKey' | 'key'
  | 'csr' | 'pathlen' | 'finish' | 'since' | 'intermediatePassword';

/** A setting the user gives through the environment, by what it is; the caller spells it. */
export type VariableName = 'db' | 'javaStorePass' | 'pkcs11Module' | 'pkcs11Pin' | 'pkcs11RootPin';

/**
 * A message or hint is text with options and variables in it:
 * `[{ option: 'days' }, ' must be a whole number ...']`, `['Write it like ', { option: 'days', value: '365' }, '.']`.
 */
export type TextPart = string | { option: OptionName; value?: string } | { variable: VariableName };

/** A message in one piece, or in parts with options in them. */
export type Text = string | readonly TextPart[];

export const toParts = (text: Text): readonly TextPart[] => (typeof text === 'string' ? [text] : text);

export interface Spelling {
  option: (option: OptionName) => string;
  variable: (variable: VariableName) => string;
}

/** Options in words, for callers that spell no flags (and for ca/'s own tests). */
const OPTION_WORDS: Partial<Record<OptionName, string>> = {
  days: 'the number of days',
  crlDays: 'the number of days until the next CRL update',
  rootCrlDays: "the number of days until the next update of the root's CRL",
  expiring: 'the number of days ahead',
  keyType: 'the key type',
  bits: 'the RSA key size',
  reason: 'the revocation reason',
  permitDns: 'the permitted DNS domain',
  permitIp: 'the permitted address range',
  permitEmail: 'the permitted e-mail domain',
  pathlen: 'the path length',
  csr: 'the CSR file',
  crlUrl: 'the CRL URL',
  rootCrlUrl: "the root's CRL URL",
  ocspUrl: 'the OCSP URL',
  lockTimeout: 'the lock timeout',
  issuer: 'the issuer',
  serial: 'the serial',
  name: 'the name',
  out: 'the output file',
  db: 'the CA directory',
};

export const PLAIN: Spelling = {
  option: (option) => OPTION_WORDS[option] ?? option,
  variable: (variable) => (variable === 'db' ? 'the CA directory setting' : 'the keystore password setting'),
};

export function renderText(parts: readonly TextPart[], spelling: Spelling): string {
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      if ('variable' in part) return spelling.variable(part.variable);
      return part.value === undefined ? spelling.option(part.option) : `${spelling.option(part.option)} ${part.value}`;
    })
    .join('');
}

