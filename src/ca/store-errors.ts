import { hostname } from 'node:os';
import { CertifiedError, LockError, StorageError } from './errors.js';
import { GitBusyError, GitMissingError, GitOperationError, HelperGoneError, NotAFolderError, causeOfType, PendingChangeError, SkipWorktreeError, StoreWriteError } from '../store/errors.js';
import { CorruptJournalError } from '../store/journal.js';
import { JOURNAL_FILE } from '../store/layout.js';
import { LockTimeoutError } from '../store/lock.js';
import { ReadTooLargeError } from '../store/bounded-read.js';
import { SymlinkedFolderError } from '../store/folders.js';

const WHY: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

/** How the user ends a git operation that is under way. */
const GIT_ENDS: Record<Exclude<GitOperationError['operation'], 'merge'>, { finish: string; abort: string }> = {
  'cherry-pick': { finish: 'git cherry-pick --continue', abort: 'git cherry-pick --abort' },
  revert: { finish: 'git revert --continue', abort: 'git revert --abort' },
  rebase: { finish: 'git rebase --continue', abort: 'git rebase --abort' },
  am: { finish: 'git am --continue', abort: 'git am --abort' },
  squash: { finish: 'git commit', abort: 'git reset --merge' },
};

/** The command that finishes a git operation once its conflicts are staged. */
export function gitFinishCommand(operation: GitOperationError['operation']): string {
  return operation === 'merge' ? 'git commit' : GIT_ENDS[operation].finish;
}

/** Turns a store failure (lock timeout, full or read-only disk, busy git) into a one-line CertifiedError. */
export function storeErrorToCertified(error: unknown): CertifiedError | undefined {
  // A missing git, or a git operation git itself found under way, as such however deep it was wrapped.
  error = causeOfType(error, GitMissingError) ?? causeOfType(error, GitOperationError) ?? error;
  if (error instanceof GitMissingError) {
    return new CertifiedError(error.message, {
      code: 'GIT_MISSING',
      hint: 'certified keeps the CA in a git repository: install git (for example "sudo apt-get install git") or add the directory that holds it to PATH, then run the command again. Nothing was changed.',
    });
  }
  if (error instanceof LockTimeoutError) {
    const holder = error.holder;
    const who = holder ? `pid ${holder.pid}${holder.host && holder.host !== hostname() ? ` on ${holder.host}` : ''}` : 'pid unknown';
    const elsewhere = holder && holder.host && holder.host !== hostname();
    const clear = elsewhere
      ? ` If ${holder.host} is gone or runs no certified (pid ${holder.pid}), remove "${error.path}" and run the command again.`
      : holder ? '' : ` If no certified runs, remove "${error.path}" and run the command again.`;
    return new LockError(
      `another certified process (${who}) holds the lock on ${error.dir}; gave up after ${Math.round(error.timeoutMs / 1000)} s`,
      ['Run the command again when it has finished, or wait longer with ', { option: 'lockTimeout', value: 'SECONDS' }, `.${clear}`],
    );
  }
  if (error instanceof GitBusyError) {
    return new LockError(
      `git is busy in the CA repository: "${error.path}" exists`,
      'If no git command is running, remove that file and run the command again.',
    );
  }
  if (error instanceof SkipWorktreeError) {
    return new CertifiedError(error.message, {
      code: 'SPARSE_CHECKOUT',
      hint: `Nothing was written. Add the CA directory to the sparse checkout (git sparse-checkout add), or run "git update-index --no-skip-worktree ${error.path}" in it, then run the command again.`,
    });
  }
  if (error instanceof GitOperationError) {
    return new CertifiedError(`${error.message}, so nothing was changed`, {
      code: 'GIT_OPERATION',
      hint: error.operation === 'merge'
        ? 'Finish the merge first: resolve the conflicts, "git add" them and run "git merge --continue" (or "git merge --abort"). "certified crl" resolves conflicts in CRLs itself.'
        : error.operation === 'squash'
          ? 'Finish it first ("git commit") or abort it ("git reset --merge"). "certified crl" resolves conflicts in CRLs itself. No squash under way? Then git left .git/SQUASH_MSG behind: remove that file, and what you staged stays.'
          : `Finish it first ("${GIT_ENDS[error.operation].finish}") or abort it ("${GIT_ENDS[error.operation].abort}"). "certified crl" resolves conflicts in CRLs itself.`,
    });
  }
  if (error instanceof PendingChangeError) {
    return new LockError(error.message, 'Run any certified command where the CA directory can be written: it finishes or undoes that change first.');
  }
  if (error instanceof SymlinkedFolderError) {
    return new CertifiedError(`${error.message}, so files written into it would land outside the CA; nothing was written`, {
      code: 'SYMLINKED_FOLDER',
      hint: `Replace the link (to "${error.target}") with a real folder holding its files, e.g. rm "${error.folder}" && cp -a "${error.target}" "${error.folder}" in the CA directory, then run the command again.`,
    });
  }
  if (error instanceof ReadTooLargeError) {
    return new CertifiedError(`${error.message}, more than such a file can hold`, { code: 'TOO_LARGE', hint: 'Check that file: it was not written by certified.' });
  }
  if (error instanceof NotAFolderError) {
    return new StorageError(error.message, error, `Nothing was written. Move that file away (e.g. "mv ${error.path} ${error.path}.bak" in the CA directory) and run the command again.`);
  }
  if (error instanceof CorruptJournalError) {
    return new LockError(
      `${error.message}, so certified cannot tell what an interrupted change left in ${error.dir}`,
      `Look at "git status" there (remove or commit what that change left), then delete "${error.path}" and run the command again.`,
    );
  }
  if (error instanceof StoreWriteError) {
    const why = (error.errno && WHY[error.errno]) ?? (/No space left|Out of diskspace|disk quota/i.test(error.message) ? WHY.ENOSPC : /Read-only file system/i.test(error.message) ? WHY.EROFS : undefined);
    const gitBusy = /index\.lock': File exists/.test(error.message);
    if (gitBusy) return new LockError(`git is busy in the CA repository (index.lock exists)`, 'If no git command is running, remove ".git/index.lock" and run the command again.');
    const what = `failed to ${error.action} "${error.path}"`;
    return new StorageError(why ? `${what}: ${why}` : firstLine(error.message), error, leftoverHint(error.leftover));
  }
  return undefined;
}

/** The hint of a change that failed after it began writing: what its undo left, and why. */
function leftoverHint(leftover: StoreWriteError['leftover']): string | undefined {
  if (!leftover) return undefined;
  if ('undoError' in leftover) {
    if (leftover.undoError instanceof HelperGoneError) {
      return `git may still be committing it: the journal "${JOURNAL_FILE}" stays, and the next certified command finishes or undoes the change. Run the command again.`;
    }
    const why = firstLine(String((leftover.undoError as Error)?.message ?? leftover.undoError));
    return `Nothing was committed, but the files it wrote could not be removed (${why}): they and the journal "${JOURNAL_FILE}" stay, and the next certified command removes them once that works. Fix the cause and run the command again.`;
  }
  return `Nothing was committed; the rest was undone, but ${describeKept(leftover.kept)}. Fix the cause and run the command again.`;
}

const KEPT_WHY: Record<string, string> = {
  'held by git': 'git holds them (committed or added by hand)',
  'changed since': 'they changed after it wrote them',
  'belongs to what git holds': 'git holds the rest of that change, and git ignores them: they may be the only copy',
};

/** "3 file(s) were kept because git holds them (...): a, b, c" for each reason, joined. */
export function describeKept(kept: readonly { path: string; why: string }[]): string {
  const reasons = [...new Set(kept.map((item) => item.why))];
  return reasons
    .map((why) => {
      const paths = kept.filter((item) => item.why === why).map((item) => item.path);
      const shownPaths = paths.slice(0, 5).map((path) => `"${path}"`).join(', ') + (paths.length > 5 ? ` and ${paths.length - 5} more` : '');
      return `${paths.length} file(s) were kept because ${KEPT_WHY[why] ?? why}: ${shownPaths}`;
    })
    .join('; ');
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '')?.trim() ?? text;
}
