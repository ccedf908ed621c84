import { createSubCa } from '../../ca/authorities/create-sub-ca.js';
import { deriveName, parseSubjectArguments, validateDn, validateName } from '../../ca/names.js';
import { parseDays, parseKeySpec } from '../../ca/options.js';
import { DEFAULT_CA_DAYS } from '../../ca/profiles.js';
import { UsageError } from '../../ca/errors.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import type { RootOptions } from '../options.js';
import { certificateChange, crlDocument } from '../json-output.js';
import { data, longDate, printJson, shown, status, warning, withSpinner } from '../output.js';
import { resolveSecret } from '../secrets.js';
import { askPasswordFrom } from '../passwords.js';

/** `certified --ca --issuer=X CN=..`: a sub-CA signed by X. Its key is encrypted with --password. */
export async function runCreateSubCa(args: string[], options: RootOptions, argv: string[]): Promise<void> {
  const parsed = parseSubjectArguments(args);
  if (parsed.sans.length) throw new UsageError('a CA takes no +names', 'Give only the subject, like CN="Team CA".');
  const dn = validateDn(parsed.dn);
  const name = options.name !== undefined ? validateName(options.name) : deriveName(dn.CN ?? '');
  const key = parseKeySpec(options, 'ca');
  const days = options.days === undefined ? DEFAULT_CA_DAYS : parseDays(options.days);
  const store = openStore(options);
  const keyUri = options.key === undefined ? undefined : (await import('../../ca/token-keys.js')).readTokenKeyUri(options.key, { option: 'key' });
  // A key on a token has no file to encrypt.
  const password = keyUri ? undefined : await resolveSecret({
    label: `the key of the CA "${name}"`,
    flag: '--password',
    flagValue: options.password,
    env: 'CERTIFIED_PASSWORD',
    forNewKey: true,
  });

  const result = await withSpinner(`Making the CA "${dn.CN}"...`, () =>
    createSubCa(store, {
      name,
      subject: dn,
      issuer: options.issuer ?? '',
      key,
      days,
      askPassword: askPasswordFrom({ rootPassword: options.rootPassword, caPassword: options.caPassword, pin: options.pin }),
      ...(password ? { password } : {}),
      ...(keyUri ? { keyUri } : {}),
      commandLine: redactedCommandLine(argv),
    }),
  );
  if (store.dryRun) return reportDryRun(store, options.json ? { action: 'init', warnings: result.warnings } : undefined);
  if (options.json) return printJson(certificateChange('init', result.record, store, result.warnings, { crls: result.crls.map((crl) => crlDocument(crl, store)) }));
  data(result.chainPem);
  status(`Created the CA "${result.certificate.subject.CN}" (${name}), signed by "${result.issuer}".`);
  if (result.keyOnToken) {
    status(`The certificate is at ${shown(store.path(result.files.certificate))}, the chain at ${shown(store.path(result.files.chain))} and its CRL at ${shown(store.path(result.files.crl))}.`);
    status(`The key of "${name}" is on the PKCS#11 token (${result.keyOnToken}); it never leaves it.`);
  } else {
    status(`The certificate is at ${shown(store.path(result.files.certificate))}, the chain at ${shown(store.path(result.files.chain))}, the key at ${shown(store.path(result.files.key))} and its CRL at ${shown(store.path(result.files.crl))}.`);
  }
  status(`It will expire on ${longDate(result.certificate.notAfter)}.`);
  for (const text of result.warnings) await warning(text);
  if (!result.keyEncrypted && !result.keyOnToken) status(`Its key is not encrypted, so it is git-ignored: back it up, or use --password to have it encrypted and committed.`);
  status(`Issue from it with "certified issue --issuer ${name} CN=.."; committed as ${result.commit.slice(0, 12)}.`);
}
