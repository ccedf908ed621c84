/**
 * Starting the programs certified runs (git, sync). A fork copies the page tables of the process
 * that forks, and libuv's spawn waits in the calling thread until the child has exec'd: from the
 * ACME server (~200 MB resident) each git process cost ~11 ms of CPU and held its event loop
 * ~23 ms (from a 47 MB process: ~2.4 ms and ~3 ms), four or five times per commit. A process that
 * keeps running (`serve`) therefore starts one small helper, plain Node without the bundle, that
 * starts them for it (startSpawnHelper); a command runs them itself.
 */
import { execFile, spawn, type ChildProcess, type ExecFileException } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { childEnv } from './child-env.js';
import { HelperGoneError } from './errors.js';

export interface RunOptions {
  cwd?: string;
  env: NodeJS.ProcessEnv;
  maxBuffer?: number;
  /** Written to the program's stdin, which is then closed. */
  input?: string | Uint8Array;
}

export interface RunResult {
  /** As execFile reports it: `code` is the exit code, or a string such as ENOENT when the program could not be started. */
  error: ExecFileException | null;
  stdout: string;
  stderr: string;
}

/** Runs `file` with `args` (no shell): through the helper when one runs, else from this process. */
export function runProgram(file: string, args: string[], options: RunOptions): Promise<RunResult> {
  // A helper that died (killed for memory, say) is replaced at the next program.
  if (helperWanted) helper ??= new SpawnHelper();
  return helper?.run(file, args, options) ?? runHere(file, args, options);
}

function runHere(file: string, args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { ...(options.cwd === undefined ? {} : { cwd: options.cwd }), env: options.env, maxBuffer: options.maxBuffer ?? 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ error, stdout, stderr }),
    );
    if (options.input !== undefined) {
      child.stdin?.on('error', () => undefined); // the program exited early: its exit code tells why
      child.stdin?.end(options.input);
    }
  });
}

/**
 * The helper's whole program (CommonJS, given to `node -e`): one execFile per message, the outcome
 * sent back; it ends when this process goes (the IPC channel closes), not on the SIGINT or SIGTERM
 * that stops the server (sent to the whole process group by Ctrl-C and by systemd), so that the
 * server can still make the commit it is finishing.
 */
const HELPER_PROGRAM = `
const { execFile } = require('node:child_process');
process.on('disconnect', () => process.exit(0));
// Ctrl-C or a service manager signals the whole group: the server finishes its commit through us.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.on('message', ({ id, file, args, cwd, env, maxBuffer, input }) => {
  const reply = (error, stdout, stderr) => process.send({ id, stdout: String(stdout ?? ''), stderr: String(stderr ?? ''),
    error: error && { message: error.message, code: error.code, signal: error.signal, syscall: error.syscall, killed: error.killed } });
  let child;
  try {
    child = execFile(file, args, { cwd, env, maxBuffer }, reply);
  } catch (error) {
    reply(error, '', '');
    return;
  }
  // Its process id, so that the server can wait for it should this helper die before it ends.
  if (child.pid !== undefined) process.send({ id, pid: child.pid });
  if (input !== undefined) {
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  }
});
`;

interface Reply {
  id: number;
  stdout: string;
  stderr: string;
  error: { message: string; code?: number | string; signal?: NodeJS.Signals; syscall?: string; killed?: boolean } | null;
}

class SpawnHelper {
  private readonly pending = new Map<number, (result: RunResult) => void>();
  /** The process of each program running, by request id. */
  private readonly running = new Map<number, number>();
  /** Whether it ever answered: one that dies before it does cannot start, and is not replaced. */
  private answered = false;
  private nextId = 0;
  private readonly child: ChildProcess;

  constructor() {
    // A process group of its own: Ctrl-C signals the server's group, which would also stop the git
    // the helper is running for the commit the server is finishing.
    this.child = spawn(process.execPath, ['-e', HELPER_PROGRAM], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'advanced', env: childEnv(), detached: true });
    this.child.on('message', (reply: Reply | { id: number; pid: number }) => {
      this.answered = true;
      if ('pid' in reply) {
        if (this.pending.has(reply.id)) this.running.set(reply.id, reply.pid);
        return;
      }
      const done = this.pending.get(reply.id);
      if (!done) return;
      this.pending.delete(reply.id);
      this.running.delete(reply.id);
      this.holdOpen();
      done({ error: reply.error ? Object.assign(new Error(reply.error.message) as ExecFileException, reply.error) : null, stdout: reply.stdout, stderr: reply.stderr });
    });
    // A program it was asked to run and did not report started may or may not be running.
    const gone = () => this.fail(new HelperGoneError([...this.running.values()], [...this.pending.keys()].some((id) => !this.running.has(id))));
    this.child.on('exit', gone);
    this.child.on('error', gone);
    this.holdOpen();
  }

  run(file: string, args: string[], options: RunOptions): Promise<RunResult> | undefined {
    if (!this.child.connected) return undefined;
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.holdOpen();
      const message = { id, file, args, cwd: options.cwd, env: options.env, maxBuffer: options.maxBuffer ?? 1024 * 1024, input: options.input };
      this.child.send(message, (error) => {
        if (!error || !this.pending.delete(id)) return;
        this.running.delete(id);
        this.holdOpen();
        // Never reached the helper: nothing ran, so it can run here.
        void runHere(file, args, options).then(resolve);
      });
    });
  }

  /** The helper keeps this process alive only while a program it started is running. */
  private holdOpen(): void {
    if (this.pending.size) {
      this.child.ref();
      this.child.channel?.ref();
    } else {
      this.child.unref();
      this.child.channel?.unref();
    }
  }

  /** The helper is gone: what it was running is reported as failed (it may or may not have run, and may still be running); the next program starts another helper. */
  private fail(error: Error): void {
    if (helper === this) helper = undefined;
    // Node cannot be started again (its binary replaced by an upgrade, say): programs start here.
    if (!this.answered) helperWanted = false;
    for (const done of this.pending.values()) done({ error: error as ExecFileException, stdout: '', stderr: '' });
    this.pending.clear();
    this.running.clear();
  }
}

let helper: SpawnHelper | undefined;
let helperWanted = false;

/** From now on, programs are started by a small helper process (for a process that keeps running). */
export function startSpawnHelper(): void {
  helperWanted = true;
  helper ??= new SpawnHelper();
}

/** How long to wait for a program whose helper process died to end (a git commit's hooks may take a while). */
export const ORPHAN_WAIT_MS = 60_000;

/**
 * Resolves once none of `pids` runs any more (an exited process a reaper has not collected yet
 * counts as ended), or after `timeoutMs`: true if they all ended.
 */
export async function waitForExit(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  const started = Date.now();
  for (;;) {
    if (!pids.some(isRunning)) return true;
    if (Date.now() - started > timeoutMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // A zombie: where the first process of a container reaps nobody, it stays one.
    // The state follows the command's name in parentheses, which may hold ") " itself.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true;
  }
}
