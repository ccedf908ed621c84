import { configureDiffDriver } from '../../ca/review/git-setup.js';
import { describePermitted, initCa } from '../../ca/authorities/init-ca.js';
import { parseSubjectArguments, validateDn } from '../../ca/names.js';
import { parsePermittedSubtrees } from '../../ca/authorities/name-constraints.js';
import { parseDays, parseKeySpec, parseUrl } from '../../ca/options.js';
import { DEFAULT_CA_DAYS } from '../../ca/profiles.js';
import { UsageError } from '../../ca/errors.js';
import { keyPath } from '../../ca/layout.js';
import { chooseInit } from '../../ca/authorities/choose-init.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import { gitDrivers } from './git-setup.js';
import type { RootOptions } from '../options.js';
import { certificatesChange } from '../json-output.js';
import { canAsk, data, longDate, printJson, shown, status, warning, withSpinner } from '../output.js';
import { promptDn } from '../prompts.js';
import { askPasswordFrom } from '../passwords.js';
import { newRootKeySecret, requireSecret, resolveSecret } from '../secrets.js';

export async function runInitCa(args: string[], options: RootOptions, argv: string[]): Promise<void> {
  if (options.csr !== undefined) {
    const { runCreateExternalCa } = await import('./create-external-ca.js');
    return runCreateExternalCa(args, options, argv);
  }
  if (options.issuer !== undefined) {
    const permit = options.permitDns ? '--permit-dns' : options.permitIp ? '--permit-ip' : options.permitEmail ? '--permit-email' : undefined;
    if (permit) throw new UsageError(`${permit} goes with --issuer only for --csr: a sub-CA takes the name constraints of the CA it is under`, `Drop ${permit}, or sign an engine's CSR with --csr FILE.`);
    const { runCreateSubCa } = await import('./create-sub-ca.js');
    return runCreateSubCa(args, options, argv);
  }
  const existing = openStore(options);
  if ((await chooseInit(existing)) === 'replace-intermediate') {
    const { runReplaceIntermediate } = await import('./replace-intermediate.js');
    return runReplaceIntermediate(existing, args, options, argv);
  }
  const parsed = parseSubjectArguments(args);
  if (parsed.sans.length) throw new UsageError('a CA takes no +names', 'Give only the subject, like C=US O=Example CN="Example CA".');
  const interactive = parsed.dn.CN === undefined && canAsk();
  const subject = validateDn(interactive ? await promptDn(parsed.dn) : parsed.dn);
  const key = parseKeySpec(options, 'ca');
  const days = options.days === undefined ? DEFAULT_CA_DAYS : parseDays(options.days);
  const urls = {
    ...(options.crlUrl ? { crlUrl: parseUrl(options.crlUrl, 'crlUrl') } : {}),
    ...(options.rootCrlUrl ? { rootCrlUrl: parseUrl(options.rootCrlUrl, 'rootCrlUrl') } : {}),
    ...(options.ocspUrl ? { ocspUrl: parseUrl(options.ocspUrl, 'ocspUrl') } : {}),
  };
  const nameConstraints = parsePermittedSubtrees(options);
  const rootCrlDays = options.rootCrlDays === undefined ? undefined : parseDays(options.rootCrlDays, 'rootCrlDays');
  const store = openStore(options);
  const rootRequest = newRootKeySecret('the root key', '--root-password', options.rootPassword, 'CERTIFIED_ROOT_PASSWORD');
  const tokenKeys = options.rootKey !== undefined || options.intermediateKey !== undefined ? await import('../../ca/token-keys.js') : undefined;
  const rootKeyUri = options.rootKey === undefined ? undefined : tokenKeys!.readTokenKeyUri(options.rootKey, { option: 'rootKey' });
  const intermediateKeyUri = options.intermediateKey === undefined ? undefined : tokenKeys!.readTokenKeyUri(options.intermediateKey, { option: 'intermediateKey' });
  // A key on a token has no file to encrypt: no password for it.
  const rootPassword = rootKeyUri ? undefined : requireSecret(await resolveSecret(rootRequest), rootRequest);
  const intermediatePassword = intermediateKeyUri ? undefined : await resolveSecret({
    label: 'the intermediate key',
    flag: '--intermediate-password',
    flagValue: options.intermediatePassword,
    env: 'CERTIFIED_INTERMEDIATE_PASSWORD',
    ...(interactive ? { prompt: { confirm: true, optional: true } } : {}),
    forNewKey: true,
  });

  const result = await withSpinner(`Making the root and intermediate CA (${key.type === 'rsa' ? `RSA ${key.bits}` : `ECDSA ${key.curve}`})...`, () =>
    initCa(store, {
      subject,
      key,
      days,
      ...urls,
      ...(nameConstraints ? { nameConstraints } : {}),
      ...(rootPassword === undefined ? {} : { rootPassword }),
      ...(intermediatePassword ? { intermediatePassword } : {}),
      ...(rootKeyUri ? { rootKeyUri } : {}),
      ...(intermediateKeyUri ? { intermediateKeyUri } : {}),
      askPassword: askPasswordFrom(options),
      ...(rootCrlDays === undefined ? {} : { rootCrlDays }),
      commandLine: redactedCommandLine(argv),
    }),
  );

  if (store.dryRun) return reportDryRun(store, options.json ? { action: 'init' } : undefined);
  if (options.json) {
    const warnings = result.rootKeyOnToken ? [] : [rootKeyWarning(`"${store.path(result.rootKeyPath)}"`)];
    await configureDiffDriver(store, gitDrivers()).catch((error: Error) => warnings.push(diffDriverWarning(error)));
    return printJson(certificatesChange('init', result.records, result.crls, store, warnings));
  }
  data(result.root.pem);
  status(`Created the root CA "${result.root.subject.CN}" and its intermediate "${result.intermediate.subject.CN}" in ${shown(store.dir)}.`);
  status(`The root certificate is at ${shown(store.path('certs/root-ca.crt'))}: install it where your certificates must be trusted (it is also printed on stdout).`);
  if (nameConstraints) status(`The intermediate may only issue for ${describePermitted(nameConstraints)} (a critical nameConstraints extension).`);
  status(`It will expire on ${longDate(result.root.notAfter)}.`);
  if (result.rootKeyOnToken) status(`The root key is on the PKCS#11 token (${result.rootKeyOnToken}); it never leaves it.`);
  else {
    await warning(rootKeyWarning(shown(store.path(result.rootKeyPath))));
  }
  if (result.intermediateKeyOnToken) status(`The intermediate key is on the PKCS#11 token (${result.intermediateKeyOnToken}); it never leaves it.`);
  else if (!result.intermediateKeyEncrypted) {
    status(`The intermediate key ${shown(store.path(keyPath('ca')))} is not encrypted, so it is git-ignored: back it up yourself, or use --intermediate-password to have it encrypted and committed.`);
  }
  status(`Committed as ${result.commit.slice(0, 12)}.`);
  await configureDiffDriver(store, gitDrivers()).then(
    () => status('git diff and git log -p in this clone now show certificates decoded; in other clones run "certified git-setup" once.'),
    (error: Error) => warning(diffDriverWarning(error)),
  );
}

function rootKeyWarning(file: string): string {
  return `the root key ${file} is encrypted and git-ignored: move it somewhere safe and offline. It is needed only to replace or revoke the intermediate.`;
}

function diffDriverWarning(error: Error): string {
  return `could not set up the git diff driver (${error.message}); run "certified git-setup" later.`;
}
