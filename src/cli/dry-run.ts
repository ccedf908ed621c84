import { formatViews } from '../ca/describe.js';
import { inspectContent } from '../pki/inspect.js';
import { data, status } from './output.js';

/** --dry-run: the decoded certificates (or CRLs) that would have been made on stdout, and a note. */
export async function reportDryRun(pem: string): Promise<void> {
  data(formatViews(await inspectContent(Buffer.from(pem))));
  status('Dry run: nothing was written.');
}
