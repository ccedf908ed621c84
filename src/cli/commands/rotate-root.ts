import { assertMayRotate, finishRootRotation, rotateRoot } from '../../ca/authorities/rotate-root.js';
import { UsageError } from '../../ca/errors.js';
import { parseSubjectArguments, validateDn } from '../../ca/names.js';
import { parseDays, parseKeySpec, parseUrl } from '../../ca/options.js';
import { DEFAULT_CA_DAYS } from '../../ca/profiles.js';
import { CROSS_NAME, ROOTS_FILE, certPath } from '../../ca/layout.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import type { RootOptions } from '../options.js';
import { certificatesChange, filesAndCommit } from '../json-output.js';
import { longDate, note, printJson, shown, status, warning, withSpinner } from '../output.js';
import { askPasswordFrom } from '../passwords.js';
import { newRootKeySecret, requireSecret, resolveSecret } from '../secrets.js';

export interface RotateRootOptions extends RootOptions {
  finish?: boolean;
  newRootPassword?: string;
}

export async function runRotateRoot(args: string[], options: RotateRootOptions, argv: string[]): Promise<void> {
  const store = openStore(options);
  if (options.finish) {
    if (args.length) throw new UsageError('--finish takes no subject', 'Run "certified rotate-root --finish" alone.');
    const result = await finishRootRotation(store, { commandLine: redactedCommandLine(argv) });
    if (store.dryRun) return reportDryRun(store, options.json ? { action: 'rotate-root' } : undefined);
    const stillUnderOldRoot = result.underOldRoot.length
      ? `${result.underOldRoot.length} certificate(s) still chain to the old root, which clients may no longer trust: renew them (${result.underOldRoot.slice(0, 5).join(', ')}${result.underOldRoot.length > 5 ? ', ...' : ''}).`
      : undefined;
    if (options.json) {
      const { chains, underOldRoot } = result;
      return printJson({ action: 'rotate-root', chains: chains.map((path) => store.path(path)), underOldRoot, ...filesAndCommit(store), warnings: stillUnderOldRoot ? [stillUnderOldRoot] : [] });
    }
    status(`Dropped the cross-certificate from ${result.chains.length} chain file(s); ${shown(store.path(ROOTS_FILE))} holds only the new root.`);
    if (stillUnderOldRoot) await warning(stillUnderOldRoot);
    status(`Committed as ${result.commit.slice(0, 12)}.`);
    return;
  }
  const parsed = parseSubjectArguments(args);
  if (parsed.sans.length) throw new UsageError('a root takes no +names', 'Give only the subject, like CN="Example Root 2027".');
  const subject = validateDn(parsed.dn, { requireCn: false });
  const key = options.keyType === undefined && options.bits === undefined ? undefined : parseKeySpec(options, 'ca');
  const days = options.days === undefined ? DEFAULT_CA_DAYS : parseDays(options.days);
  const rootCrlUrl = options.rootCrlUrl === undefined ? undefined : parseUrl(options.rootCrlUrl, 'rootCrlUrl');
  const keyUri = options.rootKey === undefined ? undefined : (await import('../../ca/token-keys.js')).readTokenKeyUri(options.rootKey, { option: 'rootKey' });
  // What needs no key is refused before a password is asked for.
  await assertMayRotate(store, rootCrlUrl ? { rootCrlUrl } : {});
  const request = newRootKeySecret('the new root key', '--new-root-password', options.newRootPassword, 'CERTIFIED_NEW_ROOT_PASSWORD');
  // A key on a token has no file to encrypt.
  const newRootPassword = keyUri ? undefined : requireSecret(await resolveSecret(request), request);
  const result = await withSpinner('Making the new root and its cross-certificate...', () =>
    rotateRoot(store, {
      subject,
      ...(key ? { key } : {}),
      days,
      askPassword: askPasswordFrom(options),
      ...(newRootPassword === undefined ? {} : { newRootPassword }),
      ...(keyUri ? { keyUri } : {}),
      ...(rootCrlUrl ? { rootCrlUrl } : {}),
      commandLine: redactedCommandLine(argv),
    }),
  );
  if (store.dryRun) return reportDryRun(store, options.json ? { action: 'rotate-root', warnings: result.warnings } : undefined);
  if (options.json) return printJson(certificatesChange('rotate-root', result.records, result.crls, store, result.warnings));
  status(`Made the new root "${result.root.subject.CN}" (serial ${result.root.serial}), valid until ${longDate(result.root.notAfter)}.`);
  status(`The old root "${result.oldRoot.subject.CN}" signed its key: ${shown(store.path(certPath(CROSS_NAME)))}, until ${longDate(result.cross.notAfter)}.`);
  status(`${result.carried.join(', ')} keep${result.carried.length === 1 ? 's its key' : ' their keys'}, now certified by the new root too; ${result.chains.length} CA chain file(s) end with the cross-certificate.`);
  if (result.keyOnToken) status(`The new root's key is on the PKCS#11 token (${result.keyOnToken}); it never leaves it.`);
  for (const text of result.warnings) await warning(text);
  await note(`install ${shown(store.path(ROOTS_FILE))} (both roots) where clients trust the CA ("certified trust" does), renew certificates to move them to the new chain, then run "certified rotate-root --finish".`);
  status(`Committed as ${result.commit.slice(0, 12)}.`);
}
