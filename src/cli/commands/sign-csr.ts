import { CertifiedError, UsageError } from '../../ca/errors.js';
import { InputFileError, readInputFile } from '../../ca/input-files.js';
import { validateName } from '../../ca/names.js';
import { parseDays } from '../../ca/options.js';
import { DEFAULT_LEAF_DAYS, type LeafProfile } from '../../ca/profiles.js';
import { signCsr } from '../../ca/issuing/sign-csr.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import type { RootOptions } from '../options.js';
import { certificateChange } from '../json-output.js';
import { data, longDate, printJson, shown, status, warning } from '../output.js';
import { askPasswordFrom } from '../passwords.js';

export async function runSignCsr(args: string[], options: RootOptions, argv: string[]): Promise<void> {
  if (args.length) throw new UsageError('the subject and names come from the CSR', `Drop "${args[0]?.slice(0, 40)}", or make a new CSR.`);
  if (options.client && options.server) {
    throw new UsageError('--client and --server cannot go together', 'Leave both out for a certificate that is both.');
  }
  const file = options.csr ?? '';
  const name = options.name !== undefined ? validateName(options.name) : undefined;
  const profile: LeafProfile = options.client ? 'client' : options.server ? 'server' : 'server+client';
  const days = options.days === undefined ? DEFAULT_LEAF_DAYS : parseDays(options.days);
  const input = await readCsrFile(file);
  const store = openStore(options);

  const result = await signCsr(store, {
    input,
    source: file,
    ...(name ? { name } : {}),
    profile,
    days,
    askPassword: askPasswordFrom(options),
    ...(options.issuer ? { issuer: options.issuer } : {}),
    commandLine: redactedCommandLine(argv),
  });

  if (store.dryRun) return reportDryRun(store, options.json ? { action: 'sign', warnings: result.warnings } : undefined);
  if (options.json) return printJson(certificateChange('sign', result.record, store, result.warnings));
  data(result.chainPem);
  const names = result.certificate.sans.map((san) => `"${san.value}"`);
  status(`Signed the CSR ${shown(file)} as "${result.name}" (${profile}, ${result.keyName}) for ${names.length ? names.join(', ') : `CN "${result.certificate.subject.CN ?? ''}"`}.`);
  status(`The certificate is at ${shown(store.path(result.files.certificate))} and the chain at ${shown(store.path(result.files.chain))}; the key stays with whoever made the CSR.`);
  status(`It will expire on ${longDate(result.certificate.notAfter)}.`);
  for (const text of result.warnings) await warning(text);
  status(`Committed as ${result.commit.slice(0, 12)}.`);
}

/** The CSR file is user input, read (with a cap) by ca/; ca/ gets the bytes. */
export async function readCsrFile(file: string): Promise<Uint8Array> {
  try {
    return await readInputFile(file, 'csr');
  } catch (error) {
    if (!(error instanceof InputFileError)) throw error;
    throw new CertifiedError(`cannot read the CSR "${file.slice(0, 100)}": ${error.why}`, { code: 'BAD_CSR', hint: 'Check the path given to --csr.' });
  }
}
