import { newKeyPassword, parseLeafRequest } from '../leaf-request.js';
import { UsageError } from '../../ca/errors.js';
import { issueCertificate } from '../../ca/issuing/issue-certificate.js';
import { resolveIssuer } from '../../ca/authorities/issuers.js';
import { INTERMEDIATE_NAME, ROOT_NAME } from '../../ca/layout.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import type { RootOptions } from '../options.js';
import { data, longDate, shown, status, warning, withSpinner } from '../output.js';
import { askPasswordFrom } from '../passwords.js';

const CA_ONLY = ['rootPassword', 'intermediatePassword', 'crlUrl', 'rootCrlUrl', 'ocspUrl', 'permitDns', 'permitIp', 'permitEmail'] as const;

export async function runIssue(args: string[], options: RootOptions, argv: string[]): Promise<void> {
  for (const option of CA_ONLY) {
    if (options[option] !== undefined) {
      throw new UsageError(`--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} goes with --ca`, 'Add --ca to make a CA, or drop the option.');
    }
  }
  const { dn, cn, name, sans, profile, key, days } = parseLeafRequest(args, options);
  const store = openStore(options);

  const password = await newKeyPassword(name, options);
  const issuer = options.issuer === undefined ? INTERMEDIATE_NAME : await resolveIssuer(store, options.issuer);
  if (issuer === ROOT_NAME) throw new UsageError('the root signs only CAs', 'Issue from the intermediate (leave --issuer out) or a sub-CA.');

  const result = await withSpinner(`Issuing ${name}...`, () =>
    issueCertificate(store, {
      name,
      subject: dn,
      sans,
      profile,
      key,
      days,
      ...(password ? { password } : {}),
      askPassword: askPasswordFrom(options),
      ...(issuer === INTERMEDIATE_NAME ? {} : { issuer }),
      commandLine: redactedCommandLine(argv),
    }),
  );

  if (store.dryRun) return reportDryRun(store);
  data(result.chainPem);
  const names = result.certificate.sans.map((san) => san.value);
  status(`Issued "${name}" (${profile}) for ${names.length ? names.map((n) => `"${n}"`).join(', ') : `CN "${cn}"`}.`);
  status(
    `The certificate is at ${shown(store.path(result.files.certificate))}, the chain at ${shown(store.path(result.files.chain))} and the key at ${shown(store.path(result.files.key ?? ''))}.`,
  );
  status(`It will expire on ${longDate(result.certificate.notAfter)}.`);
  for (const text of result.warnings) await warning(text);
  status(`Use the chain file for nginx's ssl_certificate and Node's "cert"; committed as ${result.commit.slice(0, 12)}.`);
}
