import { newKeyPassword, parseLeafRequest } from '../leaf-request.js';
import { requestCertificate } from '../../ca/issuing/request-certificate.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import type { RootOptions } from '../options.js';
import { filesAndCommit } from '../json-output.js';
import { data, printJson, shown, status, withSpinner } from '../output.js';

export async function runRequest(args: string[], options: RootOptions, argv: string[]): Promise<void> {
  const { dn, name, sans, key } = parseLeafRequest(args, options);
  const store = openStore(options);
  const password = await newKeyPassword(name, options);

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

  if (store.dryRun) return reportDryRun(store, options.json ? { action: 'request' } : undefined);
  if (options.json) {
    const { name, subject, sans, key } = result;
    return printJson({ action: 'request', name, cn: subject.CN ?? '', subject, sans, key, ...filesAndCommit(store), warnings: [] });
  }
  data(result.csrPem);
  status(`The request is at ${shown(store.path(result.files.csr))} and the key at ${shown(store.path(result.files.key))}.`);
  status(
    result.keyEncrypted
      ? 'The key is encrypted and committed.'
      : 'The key is not encrypted, so it is git-ignored: back it up yourself, or use --password to have it encrypted and committed.',
  );
  status(`Send the request to the CA that will sign it; committed as ${result.commit.slice(0, 12)}.`);
}
