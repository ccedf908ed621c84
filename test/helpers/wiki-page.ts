import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync, type Dirent } from 'node:fs';
import { dirname, join } from 'node:path';
import { BIN, REPO, ROOT_PASSWORD, baseEnv } from './cli.js';
import { freePort } from './ports.js';
import { substituteVariables, type PageVariable, type WikiBlock } from './wiki-blocks.js';

/** What a wiki page runs with: see wiki/README.md. */
export interface PageContext {
  work: string;
  env: NodeJS.ProcessEnv;
  variables: Record<PageVariable, string>;
  /** Process groups of every sh block, killed when the page ends. */
  groups: number[];
}

export type KeyType = 'ecdsa' | 'rsa';

export type BlockOutcome =
  | { kind: 'ran'; code: number; output: string }
  | { kind: 'checked' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'written'; path: string };

const BLOCK_TIMEOUT_MS = 60_000;

/**
 * A `certified` for the RSA run: the same CLI with `--key-type rsa` added to every command that
 * makes a key (not to subcommands, revocations or CSR signing, and not when a block chose a type).
 */
function writeKeyTypeWrapper(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'certified');
  const script = `#!/usr/bin/env bash
# Written by test/helpers/wiki-page.ts: the wiki's RSA run.
add=1
case "\${1:-}" in crl|ls|yaml|renew|revoke|sign|show|log|check|git-setup|export|trust|serve|plan|apply|merge-crl|acme) add=0 ;; esac
for arg in "$@"; do
  case "$arg" in --revoke|--finish|--csr|--csr=*|--key-type|--key-type=*|--bits|--bits=*|--help|--version) add=0 ;; esac
done
if [ "$add" = 1 ]; then exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} --key-type rsa "$@"; fi
exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"
`;
  writeFileSync(path, script);
  chmodSync(path, 0o755);
}

export async function createPageContext(work: string, keyType: KeyType): Promise<PageContext> {
  const home = join(work, 'home');
  mkdirSync(home, { recursive: true });
  const wrapperDir = join(work, '.wiki-bin');
  const pathDirs = [join(REPO, 'bin')];
  if (keyType === 'rsa') {
    writeKeyTypeWrapper(wrapperDir);
    pathDirs.unshift(wrapperDir);
  }
  const variables = { CA_DIR: join(work, 'etc/ssl'), PORT: String(await freePort()), PORT2: String(await freePort()), PORT3: String(await freePort()) };
  const env = baseEnv({
    ...variables,
    PATH: [...pathDirs, process.env.PATH ?? '/usr/bin:/bin'].join(':'),
    HOME: home,
    CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD,
    GNUPGHOME: undefined,
    SSL_CERT_FILE: undefined,
    NODE_EXTRA_CA_CERTS: undefined,
  });
  return { work, env, variables, groups: [] };
}

function runProcess(context: PageContext, command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: context.work, env: context.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid) context.groups.push(child.pid);
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), BLOCK_TIMEOUT_MS);
    child.on('error', reject);
    // 'exit', not 'close': a block may leave a server running in the background holding the pipes.
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      setTimeout(() => resolve({ code: code ?? (signal ? 128 : 1), output }), 20);
    });
  });
}

function syntaxCheck(block: WikiBlock, context: PageContext): void {
  const file = join(context.work, '.wiki-check' + (block.language === 'js' ? '.mjs' : '.sh'));
  writeFileSync(file, block.body);
  const result = block.language === 'js' ? spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' }) : spawnSync('bash', ['-n', file], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`syntax error in the block at line ${block.line}: ${result.stderr}`);
}

/** Whether `command` is on the page's PATH. */
function installed(command: string, context: PageContext): boolean {
  return spawnSync('bash', ['-c', 'command -v "$1"', 'bash', command], { env: context.env, stdio: 'ignore' }).status === 0;
}

/** Runs (or writes, or syntax-checks) one block and asserts its outcome; see wiki/README.md. */
export async function runBlock(block: WikiBlock, context: PageContext): Promise<BlockOutcome> {
  if (block.attributes.has('skip')) {
    syntaxCheck(block, context);
    return { kind: 'checked' };
  }
  // needs="TOOL OTHER": every one of them must be installed.
  const missing = (block.attributes.get('needs') ?? '').split(/\s+/).filter((tool) => tool && !installed(tool, context));
  if (missing.length > 0) {
    syntaxCheck(block, context);
    return { kind: 'skipped', reason: `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed` };
  }
  const file = block.attributes.get('file');
  if (file) {
    const path = join(context.work, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, block.language === 'nginx' ? substituteVariables(block.body, context.variables) : block.body, { mode: 0o755 });
    if (block.language === 'js') syntaxCheck(block, context);
    return { kind: 'written', path };
  }
  if (block.language === 'nginx') throw new Error(`the nginx block at line ${block.line} needs file=NAME`);
  let result: { code: number; output: string };
  if (block.language === 'js') {
    const script = join(context.work, '.wiki-block.mjs');
    writeFileSync(script, block.body);
    result = await runProcess(context, process.execPath, [script]);
  } else {
    result = await runProcess(context, 'bash', ['-e', '-o', 'pipefail', '-c', block.body]);
  }
  const fails = block.attributes.has('fails');
  if (fails ? result.code === 0 : result.code !== 0) {
    throw new Error(`the block at line ${block.line} exited with ${result.code}${fails ? ' (it should fail)' : ''}:\n${result.output}`);
  }
  const expected = block.attributes.get('expect');
  if (expected !== undefined && !result.output.includes(expected)) {
    throw new Error(`the block at line ${block.line} should print "${expected}"; it printed:\n${result.output}`);
  }
  return { kind: 'ran', ...result };
}

/** Stops what the page left running: its process groups and every daemon with a *.pid file. */
export function cleanUpPage(context: PageContext): void {
  for (const group of context.groups) {
    try {
      process.kill(-group, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const walk = (dir: string, depth: number): void => {
    if (depth > 3) return;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // removed since it was listed
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== '.git' && entry.name !== 'home') walk(path, depth + 1);
      else if (entry.isFile() && entry.name.endsWith('.pid')) {
        let text: string;
        try {
          text = readFileSync(path, 'utf8');
        } catch {
          continue; // removed since it was listed: its daemon has just exited (nginx -s stop returns before nginx does)
        }
        const pid = Number(text.trim());
        if (Number.isInteger(pid) && pid > 1) {
          try {
            process.kill(pid, 'SIGTERM'); // nginx's master stops its workers on TERM
          } catch {
            // already gone
          }
        }
      }
    }
  };
  walk(context.work, 0);
}
