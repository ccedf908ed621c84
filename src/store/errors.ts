/** A file-system or git operation on the CA directory failed (disk full, read-only, permissions). */
export class StoreWriteError extends Error {
  readonly errno: string | undefined;

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
