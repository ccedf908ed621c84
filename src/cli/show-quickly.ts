import { readRegularInputFileSync } from '../ca/input-files.js';
import { formatViews, inspectContentQuickly } from '../ca/review/format-views.js';

/**
 * `certified show FILE` as git's textconv runs it, once for every certificate, CSR and CRL of a
 * diff: bin/certified loads this small bundle (dist/bundle/show.cjs) instead of the CLI, which
 * costs several times more to load than the decoding. It prints exactly what the show command
 * prints, or nothing and returns false when it cannot be sure to (the file cannot be read or is no
 * regular file, it is a name in the CA, it holds DER or anything quick-inspect.ts does not read):
 * the launcher then runs the CLI, which shows it or reports the error as always.
 */
export function showQuickly(target: string): boolean {
  let content: Uint8Array | undefined;
  try {
    content = readRegularInputFileSync(target, 'shown');
  } catch {
    return false;
  }
  if (!content) return false; // not a regular file: read it once, in the CLI
  if (content.length === 0) return true; // as runShow: an empty file (git may pass one) shows nothing
  const views = inspectContentQuickly(content);
  if (!views) return false;
  // `certified show FILE | head` closes stdout early: that is not an error (as in main.ts).
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  process.stdout.write(formatViews(views));
  return true;
}
