/**
 * SoftHSM tokens for the PKCS#11 tests: each test gets a token store of its own in a temporary
 * directory (SOFTHSM2_CONF), so tests never see each other's keys or the user's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cli.js';

export const SOFTHSM_MODULE = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so'].find((path) => existsSync(path));
export const USER_PIN = '4711';
const SO_PIN = '123456';

/** Why the token tests cannot run here, or undefined (CI installs softhsm2 and opensc). */
export function softhsmMissing(): string | undefined {
  if (!SOFTHSM_MODULE) return 'no SoftHSM module (apt-get install softhsm2)';
  if (spawnSync('pkcs11-tool', ['--help']).error) return 'no pkcs11-tool (apt-get install opensc)';
  return undefined;
}

export interface Token {
  /** SOFTHSM2_CONF: give it to every process that uses the token. */
  env: Record<string, string>;
  label: string;
  /** Runs pkcs11-tool on the token, logged in; its output. */
  tool(args: string[]): { status: number | null; stdout: string; stderr: string };
}

/** A fresh, initialized token with the user PIN USER_PIN. */
export function softhsmToken(label = 'ca'): Token {
  const dir = tempDir('certified-softhsm-');
  mkdirSync(join(dir, 'tokens'));
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { SOFTHSM2_CONF: conf };
  const init = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', USER_PIN, '--so-pin', SO_PIN], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`softhsm2-util --init-token failed: ${init.stderr}`);
  return {
    env,
    label,
    tool: (args) => {
      const result = spawnSync('pkcs11-tool', ['--module', SOFTHSM_MODULE!, '--token-label', label, '--login', '--pin', USER_PIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
  };
}
