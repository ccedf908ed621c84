import { deriveName, parseSubjectArguments, subjectAltNames, validateDn, validateName } from '../../ca/names.js';
import { parseDays, parseKeySpec } from '../../ca/options.js';
import { DEFAULT_LEAF_DAYS, type LeafProfile } from '../../ca/profiles.js';
import { selfSignCertificate } from '../../ca/self-signed.js';
import { UsageError } from '../../ca/errors.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import type { RootOptions } from '../options.js';
import { data, longDate, shown, status, warning, withSpinner } from '../output.js';
import { CA_OPTIONS, MODE_OPTIONS, rejectOptions } from '../reject-options.js';
import { resolveSecret } from '../secrets.js';

export async function runSelfSigned(args: string[], options: RootOptions, argv: string[]): Promise<void> {
  rejectOptions(options, '--self-signed', [...CA_OPTIONS, ...MODE_OPTIONS.filter((option) => option !== 'selfSigned'), 'caPassword', 'issuer']);
  if (options.client && options.server) {
    throw new UsageError('--client and --server cannot go together', 'Leave both out for a certificate that is both.');
  }
  const parsed = parseSubjectArguments(args);
  const dn = validateDn(parsed.dn);
  const cn = dn.CN ?? '';
  const name = options.name !== undefined ? validateName(options.name) : deriveName(cn);
  const sans = subjectAltNames(cn, parsed.sans);
  const profile: LeafProfile = options.client ? 'client' : options.server ? 'server' : 'server+client';
  const key = parseKeySpec(options, 'leaf');
  const days = options.days === undefined ? DEFAULT_LEAF_DAYS : parseDays(options.days);
  const store = openStore(options);
  const password = await resolveSecret({
    label: `the key of "${name}"`,
    flag: '--password',
    flagValue: options.password,
    env: 'CERTIFIED_PASSWORD',
    forNewKey: true,
  });

  const result = await withSpinner(`Making the self-signed ${name}...`, () =>
    selfSignCertificate(store, {
      name,
      subject: dn,
      sans,
      profile,
      key,
      days,
      ...(password ? { password } : {}),
      commandLine: redactedCommandLine(argv),
    }),
  );

  if (store.dryRun) return reportDryRun(store);
  data(result.certificate.pem);
  status(`Made the self-signed "${name}" (${profile}); it is its own issuer, so clients must trust this certificate itself.`);
  status(`The certificate is at ${shown(store.path(result.files.certificate))} and the key at ${shown(store.path(result.files.key))}.`);
  status(`It will expire on ${longDate(result.certificate.notAfter)}.`);
  for (const text of result.warnings) await warning(text);
  status(`Committed as ${result.commit.slice(0, 12)}.`);
}
