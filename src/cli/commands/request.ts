import { deriveName, parseSubjectArguments, subjectAltNames, validateDn, validateName } from '../../ca/names.js';
import { parseKeySpec } from '../../ca/options.js';
import { requestCertificate } from '../../ca/request-certificate.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import type { RootOptions } from '../options.js';
import { data, shown, status, withSpinner } from '../output.js';
import { CA_OPTIONS, MODE_OPTIONS, rejectOptions } from '../reject-options.js';
import { resolveSecret } from '../secrets.js';

export async function runRequest(args: string[], options: RootOptions, argv: string[]): Promise<void> {
  rejectOptions(options, '--no-sign', [
    ...CA_OPTIONS,
    ...MODE_OPTIONS.filter((option) => option !== 'sign'),
    'caPassword',
    'issuer',
    'days',
    'client',
    'server',
  ]);
  const parsed = parseSubjectArguments(args);
  const dn = validateDn(parsed.dn);
  const cn = dn.CN ?? '';
  const name = options.name !== undefined ? validateName(options.name) : deriveName(cn);
  const sans = subjectAltNames(cn, parsed.sans);
  const key = parseKeySpec(options, 'leaf');
  const store = openStore(options);
  const password = await resolveSecret({
    label: `the key of "${name}"`,
    flag: '--password',
    flagValue: options.password,
    env: 'CERTIFIED_PASSWORD',
    forNewKey: true,
  });

  const result = await withSpinner(`Making the key and request for ${name}...`, () =>
    requestCertificate(store, {
      name,
      subject: dn,
      sans,
      key,
      ...(password ? { password } : {}),
      commandLine: redactedCommandLine(argv),
    }),
  );

  if (store.dryRun) return reportDryRun(store);
  data(result.csrPem);
  status(`The request is at ${shown(store.path(result.files.csr))} and the key at ${shown(store.path(result.files.key))}.`);
  status(
    result.keyEncrypted
      ? 'The key is encrypted and committed.'
      : 'The key is not encrypted, so it is git-ignored: back it up yourself, or use --password to have it encrypted and committed.',
  );
  status(`Send the request to the CA that will sign it; committed as ${result.commit.slice(0, 12)}.`);
}
