import { InvalidInputError, UsageError } from '../../ca/errors.js';
import { InputFileError, readInputFile } from '../../ca/input-files.js';
import { formatViews, viewsToJson } from '../../ca/review/describe.js';
import { inspectContent } from '../../ca/review/describe.js';
import { certPath } from '../../ca/layout.js';
import { openStore, type StoreFlags } from '../context.js';
import { data, printJson } from '../output.js';

export interface ShowOptions extends StoreFlags {
  json?: boolean;
}

/**
 * `certified show FILE|NAME`: a file path (anywhere, as git's textconv passes a temp file) or the
 * name of a certificate in the CA (certs/NAME.crt). Prints each certificate, CSR and CRL in it.
 */
export async function runShow(args: string[], options: ShowOptions, _argv: string[]): Promise<void> {
  const target = args[0];
  if (target === undefined || args.length > 1) throw new UsageError('show takes one file or name', 'Example: certified show certs/web.crt');
  const content = await readTarget(target, options);
  if (content.length === 0) return; // an empty file (git may pass one): nothing to show
  let views;
  try {
    views = await inspectContent(content);
  } catch (error) {
    throw new InvalidInputError(`"${target}" holds ${(error as Error).message}`, 'Give a PEM or DER certificate, CSR or CRL.');
  }
  if (options.json) printJson(viewsToJson(views));
  else data(formatViews(views));
}

async function readTarget(target: string, options: StoreFlags): Promise<Uint8Array> {
  const asFile = await readInputFile(target, 'shown').catch((error: unknown) => {
    if (error instanceof InputFileError && (error.errno === 'ENOENT' || error.errno === 'ENOTDIR')) return undefined;
    throw error;
  });
  if (asFile) return asFile;
  if (!target.includes('/')) {
    const inCa = await openStore(options).readText(certPath(target)).catch(() => undefined);
    if (inCa !== undefined) return Buffer.from(inCa);
  }
  throw new InvalidInputError(`there is no file "${target}" and no certificate of that name in the CA`, 'Give a file path or a name from "certified ls".');
}
