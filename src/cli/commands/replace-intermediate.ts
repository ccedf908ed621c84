import { parseSubjectArguments, validateDn } from '../../ca/names.js';
import { parseDays, parseKeySpec } from '../../ca/options.js';
import { DEFAULT_CA_DAYS } from '../../ca/profiles.js';
import { replaceIntermediate } from '../../ca/authorities/replace-intermediate.js';
import { UsageError } from '../../ca/errors.js';
import type { CaStore } from '../../ca/ca-directory.js';
import { keyPath } from '../../ca/layout.js';
import { redactedCommandLine } from '../command-line.js';
import type { RootOptions } from '../options.js';
import { certificateChange, crlDocument } from '../json-output.js';
import { data, longDate, printJson, shown, status, warning, withSpinner } from '../output.js';
import { resolveSecret } from '../secrets.js';
import { askPasswordFrom } from '../passwords.js';
import { reportDryRun } from '../dry-run.js';

/** Options of `init` that only a new CA takes: a replacement keeps the saved URLs and name constraints. */
const NOT_FOR_REPLACEMENT = ['rootKey', 'crlUrl', 'rootCrlUrl', 'ocspUrl', 'rootCrlDays', 'permitDns', 'permitIp', 'permitEmail'] as const;

/** `certified --ca` when the root exists and the intermediate was revoked: a new intermediate, saved defaults kept. */
export async function runReplaceIntermediate(store: CaStore, args: string[], options: RootOptions, argv: string[]): Promise<void> {
  const given = NOT_FOR_REPLACEMENT.find((option) => options[option] !== undefined);
  if (given) {
    const flag = `--${given.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new UsageError(`${flag} does not go with a new intermediate under the existing root (the saved defaults are kept)`, `Drop ${flag}.`);
  }
  const parsed = parseSubjectArguments(args);
  if (parsed.sans.length) throw new UsageError('a CA takes no +names');
  const subject = validateDn(parsed.dn, { requireCn: false });
  const key = options.keyType === undefined && options.bits === undefined ? undefined : parseKeySpec(options, 'ca');
  const days = options.days === undefined ? DEFAULT_CA_DAYS : parseDays(options.days);
  const intermediateKeyUri = options.intermediateKey === undefined ? undefined : (await import('../../ca/token-keys.js')).readTokenKeyUri(options.intermediateKey, { option: 'intermediateKey' });
  // A key on a token has no file to encrypt.
  const intermediatePassword = intermediateKeyUri ? undefined : await resolveSecret({
    label: 'the intermediate key',
    flag: '--intermediate-password',
    flagValue: options.intermediatePassword,
    env: 'CERTIFIED_INTERMEDIATE_PASSWORD',
    forNewKey: true,
  });

  const result = await withSpinner('Making a new intermediate...', () =>
    replaceIntermediate(store, {
      subject,
      ...(key ? { key } : {}),
      days,
      askPassword: askPasswordFrom(options),
      ...(intermediatePassword ? { intermediatePassword } : {}),
      ...(intermediateKeyUri ? { intermediateKeyUri } : {}),
      commandLine: redactedCommandLine(argv),
    }),
  );
  if (store.dryRun) return reportDryRun(store, options.json ? { action: 'init', warnings: result.warnings } : undefined);
  if (options.json) return printJson(certificateChange('init', result.record, store, result.warnings, { crls: result.crls.map((crl) => crlDocument(crl, store)) }));
  data(result.intermediate.pem);
  status(`Made a new intermediate "${result.intermediate.subject.CN}" (serial ${result.intermediate.serial}) under the existing root.`);
  status(`It will expire on ${longDate(result.intermediate.notAfter)}.`);
  for (const text of result.warnings) await warning(text);
  if (result.keyOnToken) status(`Its key is on the PKCS#11 token (${result.keyOnToken}); it never leaves it.`);
  else if (!result.keyEncrypted) status(`Its key ${shown(store.path(keyPath('ca')))} is not encrypted, so it is git-ignored: back it up yourself.`);
  status(`Issue and renew certificates as before; committed as ${result.commit.slice(0, 12)}.`);
}
