import { fileURLToPath } from 'node:url';
import { setupGitDiff } from '../../ca/review/git-setup.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore, type StoreFlags } from '../context.js';
import { filesAndCommit } from '../json-output.js';
import { note, printJson, shown, status } from '../output.js';

/**
 * The commands git runs in this clone, from this installation, quoted for git's shell: the textconv
 * is bin/certified-textconv (`certified show FILE`, kept by content in the git directory), the
 * merge driver the launcher. Clones set up before keep working with "<bin>/certified show".
 */
export function gitDrivers(): { textconv: string; mergeCrl: string } {
  const quote = (path: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`);
  const bin = (name: string) => quote(fileURLToPath(new URL(`../../../bin/${name}`, import.meta.url)));
  return { textconv: bin('certified-textconv'), mergeCrl: `${bin('certified')} merge-crl %O %A %B` };
}

export async function runGitSetup(_args: string[], options: StoreFlags & { json?: boolean }, argv: string[]): Promise<void> {
  const store = openStore(options);
  const drivers = gitDrivers();
  const result = await setupGitDiff(store, { drivers, commandLine: redactedCommandLine(argv) });
  if (options.json) printJson({ action: 'git-setup', repository: result.repository, drivers, ...filesAndCommit(store), warnings: [] });
  if (result.commit) status(`Wrote ${shown(store.path('.gitattributes'))}; committed as ${result.commit.slice(0, 12)}.`);
  status(`git diff, git log -p and git show now print certificates, CSRs and CRLs decoded in ${shown(result.repository)}.`);
  await note('this setting lives in .git/config, so run "certified git-setup" once in every clone.');
}
