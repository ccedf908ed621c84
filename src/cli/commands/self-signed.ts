import { newKeyPassword, parseLeafRequest } from '../leaf-request.js';
import { selfSignCertificate } from '../../ca/issuing/self-signed.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import type { RootOptions } from '../options.js';
import { certificateChange } from '../json-output.js';
import { data, longDate, printJson, shown, status, warning, withSpinner } from '../output.js';

export async function runSelfSigned(args: string[], options: RootOptions, argv: string[]): Promise<void> {
  const { dn, name, sans, profile, key, days } = parseLeafRequest(args, options);
  const store = openStore(options);
  const password = await newKeyPassword(name, options);

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

  if (store.dryRun) return reportDryRun(store, options.json ? { action: 'self-signed', warnings: result.warnings } : undefined);
  if (options.json) return printJson(certificateChange('self-signed', result.record, store, result.warnings));
  data(result.certificate.pem);
  status(`Made the self-signed "${name}" (${profile}); it is its own issuer, so clients must trust this certificate itself.`);
  status(`The certificate is at ${shown(store.path(result.files.certificate))} and the key at ${shown(store.path(result.files.key))}.`);
  status(`It will expire on ${longDate(result.certificate.notAfter)}.`);
  for (const text of result.warnings) await warning(text);
  status(`Committed as ${result.commit.slice(0, 12)}.`);
}
