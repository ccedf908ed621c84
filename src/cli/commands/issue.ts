import { newKeyPassword, parseLeafRequest } from '../leaf-request.js';
import { issueCertificate } from '../../ca/issuing/issue-certificate.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import type { RootOptions } from '../options.js';
import { certificateChange } from '../json-output.js';
import { data, longDate, note, printJson, shown, status, warning, withSpinner } from '../output.js';
import { askPasswordFrom } from '../passwords.js';

export async function runIssue(args: string[], options: RootOptions, argv: string[]): Promise<void> {
  const { dn, cn, name, sans, profile, key, days } = parseLeafRequest(args, options);
  const store = openStore(options);

  const password = await newKeyPassword(name, options);

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
      ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
      commandLine: redactedCommandLine(argv),
    }),
  );

  if (store.dryRun) return reportDryRun(store, options.json ? { action: 'issue', warnings: result.warnings } : undefined);
  if (options.json) return printJson(certificateChange('issue', result.record, store, result.warnings));
  data(result.chainPem);
  const names = result.certificate.sans.map((san) => san.value);
  status(`Issued "${name}" (${profile}) for ${names.length ? names.map((n) => `"${n}"`).join(', ') : `CN "${cn}"`}.`);
  status(
    `The certificate is at ${shown(store.path(result.files.certificate))}, the chain at ${shown(store.path(result.files.chain))} and the key at ${shown(store.path(result.files.key ?? ''))}.`,
  );
  status(`It will expire on ${longDate(result.certificate.notAfter)}.`);
  for (const text of result.warnings) await warning(text);
  // Leaves are ECDSA P-256 unless asked otherwise, whatever the CA's key: say so under an RSA CA.
  if (options.keyType === undefined && options.bits === undefined && key.type === 'ecdsa' && result.issuerKey.type === 'rsa') {
    await note(`the new key is ECDSA ${key.curve} while the CA's key is RSA; use --key-type rsa for an RSA key.`);
  }
  const commit = result.commit.slice(0, 12);
  if (profile === 'client') {
    const files = `--cert ${shown(store.path(result.files.chain))} --key ${shown(store.path(result.files.key ?? ''))}`;
    status(`Present it from the client with its key (curl ${files}), or export it for a browser with "certified export ${name} --p12"; committed as ${commit}.`);
  } else {
    status(`Use the chain file for nginx's ssl_certificate and Node's "cert"; committed as ${commit}.`);
  }
}
