/** A file-system or git operation on the CA directory failed (disk full, read-only, permissions). */
export class StoreWriteError extends Error {
  readonly errno: string | undefined;
  /**
   * Set when a change failed after it began writing and its undo left something: the files it
   * kept (and why), or the error that stopped the undo (then the journal stays for the next command).
   */
  leftover?: { kept: { path: string; why: string }[] } | { undoError: unknown };

  constructor(readonly action: string, readonly path: string, cause: unknown) {
    super(`failed to ${action} "${path}": ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.errno = (cause as NodeJS.ErrnoException)?.code;
  }
}

/** git's own index lock is held (another git command runs, or one was killed and left it). */
export class GitBusyError extends Error {
  constructor(readonly path: string) {
    super(`git's lock "${path}" exists`);
  }
}

/** A path a change would commit is marked skip-worktree (outside a sparse checkout): git add refuses it, and a commit would delete it. */
export class SkipWorktreeError extends Error {
  constructor(readonly path: string) {
    super(`"${path}" is marked skip-worktree (outside your sparse checkout), so git would not commit it`);
  }
}

/** Reading needs an interrupted change finished or undone first, and the CA directory is read-only. */
export class PendingChangeError extends Error {
  constructor(readonly dir: string, readonly summary: string, options: { cause: unknown }) {
    super(`an interrupted change ("${summary}") must be finished or undone first, and "${dir}" cannot be written`, options);
  }
}

/** git is in the middle of a merge, cherry-pick, revert or rebase in the CA's repository. */
export class GitOperationError extends Error {
  constructor(readonly dir: string, readonly operation: 'merge' | 'squash' | 'cherry-pick' | 'revert' | 'rebase' | 'am') {
    super(`a git ${gitOperationName(operation)} is under way in the repository of "${dir}"`);
  }
}

/** A git operation as the user started it: "merge --squash" for a squash. */
export function gitOperationName(operation: GitOperationError['operation']): string {
  return operation === 'squash' ? 'merge --squash' : operation;
}

/**
 * The helper process that starts git for a server exited while a program it started ran: that
 * program may still be running (a git commit finishing after all), so what it was doing is
 * finished or undone only once it has ended.
 */
export class HelperGoneError extends Error {
  /**
   * The processes of the programs it had started and not seen end; `unsure`: one it was asked to
   * run may have started without saying so (then only a later command, after a while, can tell).
   */
  constructor(
    readonly orphans: readonly number[],
    readonly unsure = false,
  ) {
    super('the helper process that starts git exited while git was running');
  }
}

/** The `git` program could not be started: it is not installed, or not on PATH. */
export class GitMissingError extends Error {
  constructor(cause: unknown) {
    super('git is not installed or not on PATH', cause === undefined ? undefined : { cause });
  }
}

/** Something other than a folder (a file) is where the CA directory needs a folder. */
export class NotAFolderError extends Error {
  constructor(readonly dir: string, readonly path: string) {
    super(`"${path}" in "${dir}" is not a folder, but certified keeps files in it`);
  }
}

/** A revision given to compare with (check --since) that git does not know, or that shares no history with HEAD. */
export class GitUnknownRefError extends Error {
  /** shallow: no merge base in a clone that lacks the history (CI's fetch-depth: 1), so whether there is one is unknown. */
  /** `inShallowClone`: the clone lacks history, so an unknown ref may simply not have been fetched. */
  constructor(readonly ref: string, readonly reason: 'unknown' | 'unrelated' | 'shallow', readonly inShallowClone = reason === 'shallow') {
    super(reason === 'unknown' ? `git knows no commit "${ref}"` : reason === 'shallow' ? `the shallow clone lacks the history of "${ref}" and HEAD` : `"${ref}" shares no history with HEAD`);
  }
}

/** `error` or the first error of its cause chain that is an instance of `type`. */
export function causeOfType<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth++) {
    if (current instanceof type) return current;
  }
  return undefined;
}
