/**
 * Every change to the CA is reviewed as a diff: a .gitattributes rule that unsets `diff` on its
 * certificates, CSRs or CRLs ("-diff", "binary") makes git and a pull request's page show
 * "Binary files differ" instead, and hides what changed from the reviewer.
 */
import type { CaStore } from '../../store/ca-store.js';
import { gitAttributesChangedSince, gitDiffHiddenPaths } from '../../store/git.js';
import { finding, type Finding } from './check-findings.js';

/** The files certified's .gitattributes gives its diff driver. */
const REVIEWED_FILES = ['*.crt', '*.csr', '*.crl'];
const REVIEWED = /\.(?:crt|csr|crl)$/;

/**
 * Every such file of the CA; for check --since, those it changed, unless a .gitattributes changed
 * anywhere in the repository (one above the CA's directory, which --since does not otherwise look at).
 */
export async function checkDiffHidden(store: CaStore, since?: { base: string; paths: string[] }): Promise<Finding[]> {
  const among = since && !(await gitAttributesChangedSince(store.dir, since.base)) ? since.paths.filter((path) => REVIEWED.test(path)) : undefined;
  return (await gitDiffHiddenPaths(store.dir, REVIEWED_FILES, among)).map((path) =>
    finding(path, 'diff-hidden', 'git shows no diff of it (its "diff" attribute is unset, by a "-diff" or "binary" rule in .gitattributes), so a change to it is hidden from review: take that rule out'),
  );
}
