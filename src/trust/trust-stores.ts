import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic.js';
import { childEnv } from '../store/child-env.js';

/**
 * The file and command work of `certified trust`: the one place that runs update-ca-certificates,
 * update-ca-trust, certutil and keytool. The rules (which store, what name) are in ca/trust.ts.
 */

export class TrustStoreError extends Error {
  constructor(message: string, readonly hint: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

export interface CommandResult {
  /** The command as a user would type it. */
  shown: string;
  ok: boolean;
  missing: boolean;
  output: string;
}

/** `shownArgs`: the arguments as the user is told of them, when some of the real ones mean nothing after the run. */
function runCommand(command: string, args: string[], shownArgs: string[] = args): CommandResult {
  const result = spawnSync(command, args, { encoding: 'utf8', env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const shown = [command, ...shownArgs].map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
  const missing = (result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  return { shown, ok: !result.error && result.status === 0, missing, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}

const isDir = (path: string) => stat(path).then((s) => s.isDirectory(), () => false);
const isFile = (path: string) => stat(path).then((s) => s.isFile(), () => false);

// --- The system store: a file in the anchors directory, then the distribution's update command.

export interface SystemStore {
  family: 'debian' | 'rhel';
  /** Where the root's file goes. */
  dir: string;
  /** The update command to run, or undefined when it cannot run against this root. */
  update?: { command: string; args: string[]; uninstallArgs: string[] };
}

/** Debian/Ubuntu or RHEL/Fedora under `root` ("/" for this machine), found by their anchor directories. */
export async function findSystemStore(root: string): Promise<SystemStore | undefined> {
  const debian = join(root, 'usr/local/share/ca-certificates');
  if (await isDir(debian)) {
    if (root === '/') return { family: 'debian', dir: debian, update: { command: 'update-ca-certificates', args: [], uninstallArgs: ['--fresh'] } };
    const paths = ['--certsconf', 'etc/ca-certificates.conf', '--certsdir', 'usr/share/ca-certificates', '--localcertsdir', 'usr/local/share/ca-certificates', '--etccertsdir', 'etc/ssl/certs', '--hooksdir', 'etc/ca-certificates/update.d'];
    const args = paths.map((part, index) => (index % 2 === 1 ? join(root, part) : part));
    const runnable = (await isDir(join(root, 'etc/ssl/certs'))) && (await isDir(join(root, 'usr/share/ca-certificates')));
    return { family: 'debian', dir: debian, ...(runnable ? { update: { command: 'update-ca-certificates', args, uninstallArgs: ['--fresh', ...args] } } : {}) };
  }
  const rhel = join(root, 'etc/pki/ca-trust/source/anchors');
  if (await isDir(rhel)) {
    // update-ca-trust has no options for another root: only run it for this machine.
    return { family: 'rhel', dir: rhel, ...(root === '/' ? { update: { command: 'update-ca-trust', args: ['extract'], uninstallArgs: ['extract'] } } : {}) };
  }
  return undefined;
}

/** Writes the anchor file; false when the same certificate is already there. */
export async function placeSystemAnchor(path: string, pem: string): Promise<boolean> {
  if ((await readFile(path, 'utf8').catch(() => undefined)) === pem) return false;
  await writeFileAtomic(path, pem, { mode: 0o644 }).catch((error) => {
    throw permissionError(path, error);
  });
  return true;
}

/** Removes the anchor file; false when it was not there. */
export async function removeSystemAnchor(path: string): Promise<boolean> {
  if (!(await isFile(path))) return false;
  await rm(path).catch((error) => {
    throw permissionError(path, error);
  });
  return true;
}

export function runSystemUpdate(update: NonNullable<SystemStore['update']>, uninstall: boolean): CommandResult {
  return runCommand(update.command, uninstall ? update.uninstallArgs : update.args);
}

function permissionError(path: string, error: unknown): TrustStoreError {
  const denied = ['EACCES', 'EPERM', 'EROFS'].includes((error as NodeJS.ErrnoException).code ?? '');
  return new TrustStoreError(
    `cannot change "${path}": ${(error as Error).message}`,
    denied ? 'The system store belongs to root: run the same command with sudo.' : 'Check the path and try again.',
    error,
  );
}

// --- NSS: the databases Chrome/Chromium (~/.pki/nssdb) and Firefox (each profile) use on Linux.

/** Existing NSS databases under HOME, as certutil's -d argument (sql: or dbm:). */
export async function findNssDatabases(home: string): Promise<string[]> {
  const found: string[] = [];
  const candidates = [join(home, '.pki/nssdb'), join(home, 'snap/chromium/current/.pki/nssdb')];
  for (const base of [join(home, '.mozilla/firefox'), join(home, 'snap/firefox/common/.mozilla/firefox')]) {
    for (const entry of (await readdir(base).catch(() => [] as string[])).sort()) candidates.push(join(base, entry));
  }
  for (const dir of candidates) {
    if (await isFile(join(dir, 'cert9.db'))) found.push(`sql:${dir}`);
    else if (await isFile(join(dir, 'cert8.db'))) found.push(`dbm:${dir}`);
  }
  return found;
}

/** The PEM stored in `db` under `nickname`, or undefined (also when certutil is missing: see nssAdd). */
export function nssFind(db: string, nickname: string): string | undefined {
  const result = runCommand('certutil', ['-L', '-d', db, '-n', nickname, '-a']);
  return result.ok ? result.output : undefined;
}

export function nssAdd(db: string, nickname: string, certificateFile: string): CommandResult {
  return runCommand('certutil', ['-A', '-d', db, '-t', 'C,,', '-n', nickname, '-i', certificateFile]);
}

export function nssDelete(db: string, nickname: string): CommandResult {
  return runCommand('certutil', ['-D', '-d', db, '-n', nickname]);
}

// --- Java: keytool with -cacerts (the JDK's own store) or a given keystore.

export interface JavaKeystore {
  /** undefined: the JDK's cacerts. */
  file?: string;
  password: string;
}

/**
 * Runs keytool on `store`. The store password goes in a file of its own (mode 0600, in a folder
 * only this user can read, removed at once): in argv, every user of the machine could read it
 * with ps, and keytool's other way, an environment variable, would hand it to a child's environment.
 */
function runKeytool(store: JavaKeystore, args: string[]): CommandResult {
  const location = store.file ? ['-keystore', store.file] : ['-cacerts'];
  const dir = mkdtempSync(join(tmpdir(), 'certified-keytool-'));
  try {
    const passwordFile = join(dir, 'storepass');
    writeFileSync(passwordFile, `${store.password}\n`, { mode: 0o600 });
    return runCommand('keytool', [...args, ...location, '-storepass:file', passwordFile], [...args, ...location, '-storepass:file', '<password-file>']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function javaHas(store: JavaKeystore, alias: string): CommandResult {
  return runKeytool(store, ['-list', '-alias', alias]);
}

export function javaAdd(store: JavaKeystore, alias: string, certificateFile: string): CommandResult {
  return runKeytool(store, ['-importcert', '-noprompt', '-trustcacerts', '-alias', alias, '-file', certificateFile]);
}

export function javaDelete(store: JavaKeystore, alias: string): CommandResult {
  return runKeytool(store, ['-delete', '-alias', alias]);
}

export async function fileExists(path: string): Promise<boolean> {
  return isFile(path);
}
