import type { CaStore } from '../../store/ca-store.js';
import { gitFindWorkTree, gitSetConfig } from '../../store/git.js';
import { CRL_MERGE_DRIVER, DIFF_DRIVER, GITATTRIBUTES_CONTENT, GITATTRIBUTES_FILE } from '../../store/layout.js';
import { loadConfig } from '../ca-files.js';
import { commitMessage } from '../commit-message.js';
import { CertifiedError } from '../errors.js';

/** The .gitattributes lines the diff driver needs. */
const ATTRIBUTE_LINES = GITATTRIBUTES_CONTENT.split('\n').filter((line) => line !== '' && !line.startsWith('#'));

/**
 * The content .gitattributes should have: ours when there is none, the user's with our missing
 * lines appended otherwise, or undefined when nothing is missing.
 */
export function gitAttributesContent(current: string | undefined): string | undefined {
  if (current === undefined) return GITATTRIBUTES_CONTENT;
  const present = new Set(current.split('\n').map((line) => line.trim().replace(/\s+/g, ' ')));
  const missing = ATTRIBUTE_LINES.filter((line) => !present.has(line));
  if (missing.length === 0) return undefined;
  return `${current}${current.endsWith('\n') || current === '' ? '' : '\n'}${missing.join('\n')}\n`;
}

/** The shell commands git runs: the absolute path of bin/certified-textconv, and of bin/certified then "merge-crl %O %A %B". */
export interface GitDrivers {
  textconv: string;
  mergeCrl: string;
}

export interface GitSetupParams {
  drivers: GitDrivers;
  commandLine: string;
}

export interface GitSetupResult {
  /** The commit that added .gitattributes, or undefined when it was already complete. */
  commit?: string;
  repository: string;
}

/** Commits .gitattributes in the CA directory if needed, then registers the diff driver in the clone. */
export async function setupGitDiff(store: CaStore, params: GitSetupParams): Promise<GitSetupResult> {
  const commit = await store.locked(async () => {
    await loadConfig(store);
    const content = gitAttributesContent(await store.readText(GITATTRIBUTES_FILE));
    if (content === undefined) return undefined;
    const message = commitMessage({
      summary: 'Show certificates, CSRs and CRLs decoded in git diffs',
      commandLine: params.commandLine,
      details: [`${GITATTRIBUTES_FILE}: ${ATTRIBUTE_LINES.join(', ')}`],
      trailers: { 'Certified-Action': 'git-setup' },
    });
    return (await store.apply({ message, writes: [{ path: GITATTRIBUTES_FILE, content, commit: true }] })).commit;
  });
  const repository = await configureDiffDriver(store, params.drivers);
  return { ...(commit ? { commit } : {}), repository };
}

/**
 * The per-clone part: diff.certified.textconv (and the CRL merge driver) in .git/config, set again
 * each time, so that git-setup moves a clone to the current commands. No cachetextconv: git writes
 * that cache as commits with the user's identity, and in a clone with none (CI) git log -p then
 * dies ("Author identity unknown"); the textconv keeps its own cache instead.
 */
export async function configureDiffDriver(store: CaStore, drivers: GitDrivers): Promise<string> {
  const repository = await gitFindWorkTree(store.dir);
  if (!repository) {
    throw new CertifiedError(`"${store.dir}" is not in a git repository`, { code: 'NO_GIT', hint: 'Run "git init" there first.' });
  }
  await gitSetConfig(store.dir, `diff.${DIFF_DRIVER}.textconv`, drivers.textconv);
  // Both sides of a merge may have rewritten a CRL: keep the higher-numbered one; "certified crl" rebuilds it from the records.
  await gitSetConfig(store.dir, `merge.${CRL_MERGE_DRIVER}.name`, 'keep the higher-numbered side; "certified crl" rebuilds CRLs from the records');
  await gitSetConfig(store.dir, `merge.${CRL_MERGE_DRIVER}.driver`, drivers.mergeCrl);
  return repository;
}
