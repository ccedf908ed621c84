import { fileURLToPath } from 'node:url';
import { setupGitDiff } from '../../ca/review/git-setup.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore, type StoreFlags } from '../context.js';
import { note, shown, status } from '../output.js';

/** The commands git runs in this clone: this installation's launcher, quoted for git's shell. */
export function gitDrivers(): { textconv: string; mergeCrl: string } {
  const bin = fileURLToPath(new URL('../../../bin/certified', import.meta.url));
  const quoted = /^[A-Za-z0-9_@%+=:,./-]+$/.test(bin) ? bin : `'${bin.replace(/'/g, `'\\''`)}'`;
  return { textconv: `${quoted} show`, mergeCrl: `${quoted} merge-crl %O %A %B` };
}

export async function runGitSetup(_args: string[], options: StoreFlags, argv: string[]): Promise<void> {
  const store = openStore(options);
  const result = await setupGitDiff(store, { drivers: gitDrivers(), commandLine: redactedCommandLine(argv) });
  if (result.commit) status(`Wrote ${shown(store.path('.gitattributes'))}; committed as ${result.commit.slice(0, 12)}.`);
  status(`git diff, git log -p and git show now print certificates, CSRs and CRLs decoded in ${shown(result.repository)}.`);
  await note('this setting lives in .git/config, so run "certified git-setup" once in every clone.');
}
