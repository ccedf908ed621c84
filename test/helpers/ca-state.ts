import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, baseEnv, git, openssl, tool, type RunResult } from './cli.js';

/** A started CLI process that the test may kill; `done` resolves when it has exited. */
export interface Started {
  child: ChildProcess;
  done: Promise<RunResult & { signal: NodeJS.Signals | null }>;
}

/** Starts the built CLI without waiting for it (stdin closed), for kill and parallel tests. */
export function start(args: (string | Buffer)[], cwd: string, env: Record<string, string | undefined> = {}): Started {
  const child = spawn(process.execPath, [BIN, ...(args as string[])], { cwd, env: baseEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end();
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<RunResult & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? 128, signal, stdout, stderr }));
  });
  return { child, done };
}

/** What the CA holds for one name: which of its files exist, and whether a record names it. */
const recordFiles = (db: string): string[] => (existsSync(join(db, 'records/ca')) ? readdirSync(join(db, 'records/ca')) : []);

export function nameState(db: string, name: string): { files: string[]; records: string[] } {
  const files = [`certs/${name}.crt`, `certs/${name}.chain.crt`, `csr/${name}.csr`, `private/${name}.key`].filter((path) =>
    existsSync(join(db, path)),
  );
  const records = recordFiles(db)
    .filter((file) => JSON.parse(readFileSync(join(db, 'records/ca', file), 'utf8')).name === name)
    .map((file) => `records/ca/${file}`);
  return { files, records };
}

/** A name is either fully issued (all four files, one record, all committed but the key) or absent. */
export function assertAllOrNothing(db: string, name: string): 'issued' | 'absent' {
  const { files, records } = nameState(db, name);
  if (files.length === 0 && records.length === 0) return 'absent';
  assert.equal(files.length, 4, `${name}: half-made, files ${files.join(', ')}`);
  assert.equal(records.length, 1, `${name}: ${records.length} records`);
  const tracked = git(db, ['ls-tree', '-r', '--name-only', 'HEAD']).split('\n');
  for (const path of [...files.filter((file) => !file.startsWith('private/')), ...records]) {
    assert.ok(tracked.includes(path), `${name}: ${path} is on disk but not committed`);
  }
  return 'issued';
}

/**
 * The whole CA is sound: a clean work tree, no journal or temp file, git fsck passes, every
 * certificate in certs/ verifies with OpenSSL, and every record has its certificate and vice versa.
 */
export function assertCaSound(db: string): void {
  assert.equal(git(db, ['status', '--porcelain', '--untracked-files=all']), '', 'the work tree is clean');
  assert.ok(!existsSync(join(db, '.certified.journal')), 'no journal is left');
  const fsck = tool('git', ['-C', db, 'fsck', '--no-progress', '--strict']);
  assert.equal(fsck.status, 0, fsck.stderr);
  const root = join(db, 'certs/root-ca.crt');
  const intermediate = join(db, 'certs/ca.crt');
  const certs = readdirSync(join(db, 'certs')).filter((file) => file.endsWith('.crt') && !file.endsWith('.chain.crt'));
  // One OpenSSL run checks them all; it prints "<file>: OK" for each good one.
  const verify = openssl(['verify', '-x509_strict', '-CAfile', root, '-untrusted', intermediate, ...certs.map((file) => join(db, 'certs', file))]);
  assert.equal(verify.status, 0, `${verify.stdout}${verify.stderr}`);
  assert.equal(verify.stdout.split('\n').filter((line) => line.endsWith(': OK')).length, certs.length, verify.stdout);
  const names = new Set(certs.map((file) => file.replace(/\.crt$/, '')));
  for (const file of recordFiles(db)) {
    const record = JSON.parse(readFileSync(join(db, 'records/ca', file), 'utf8')) as { name: string; status: string };
    if (record.status === 'valid') assert.ok(names.has(record.name), `record ${file} has no certificate`);
  }
  for (const name of names) if (name !== 'root-ca' && name !== 'ca') assertAllOrNothing(db, name);
}
