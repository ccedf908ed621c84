import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { BIN, ROOT_PASSWORD, baseEnv, git, makeCa, run, tempDir, tool, type RunResult } from '../helpers/cli.js';

/** How a progress line is redrawn in place: back to the start of the line, then clear it. */
const CLEAR = '\r\x1b[2K';
const COUNT = 30;
/** A terminal that understands the sequence; CI is set or unset by each run, never inherited. */
const TERMINAL = { TERM: 'xterm', CI: undefined };

/** Runs the CLI under a pseudo-terminal (util-linux script), stdout and stderr both on it; a command that waits for input is killed. */
function onTerminal(args: string[], cwd: string, env: Record<string, string | undefined>): Promise<RunResult> {
  const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill(), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/**
 * The progress lines drawn (each follows a CLEAR and ends without a newline) and what was printed
 * after the last CLEAR (the line was erased before it).
 */
function progressOf(output: string): { frames: string[]; last: string } {
  const parts = output.split(CLEAR);
  return { frames: parts.slice(1).filter((part) => part !== '' && !part.includes('\n')), last: parts.at(-1) ?? '' };
}

/** The counts of the frames that start with `prefix` ("Issuing"), which must be of `total`, each at least the one before. */
function counts(frames: string[], prefix: string, noun: string, total: number): number[] {
  const done = frames
    .filter((frame) => frame.startsWith(`${prefix} `))
    .map((frame) => {
      const match = new RegExp(`^${prefix} (\\d+)/(\\d+) ${noun}(, [\\d.]+/s(, [^,]+ left)?)?$`).exec(frame);
      assert.ok(match, `a frame "${frame}"`);
      assert.equal(Number(match[2]), total, frame);
      return Number(match[1]);
    });
  assert.deepEqual(done, [...done].sort((a, b) => a - b), 'the count never goes back');
  return done;
}

function writeManifest(ca: string, sets: string[]): void {
  const lines = ['certificates:'];
  for (const set of sets) for (let i = 0; i < COUNT; i++) lines.push(`  ${set}-${i}: { cn: ${set}-${i}.example.com, profile: server }`);
  writeFileSync(join(ca, 'certificates.yaml'), `${lines.join('\n')}\n`);
  git(ca, ['add', 'certificates.yaml']);
  git(ca, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', `Manifest: ${sets.join(', ')}`]);
}

const APPLIED = new RegExp(`Applied ${COUNT} changes from certificates\\.yaml in 1 commit \\([0-9a-f]{12}\\)\\.\\r?\\n$`);
const CHECKED = /The CA in "etc\/ssl" passes every check \((\d+) certificate\(s\), \d+ record\(s\), \d+ CRL\(s\)\)\.\r?\n$/;

describe('a progress line on a terminal, and none elsewhere', () => {
  const cwd = tempDir();
  const ca = join(cwd, 'etc/ssl');
  /** Each apply issues the COUNT certificates of one more set. */
  const sets: string[] = [];
  const applyNext = (set: string, runIt: () => Promise<RunResult>): Promise<RunResult> => {
    sets.push(set);
    writeManifest(ca, sets);
    return runIt();
  };

  before(async () => {
    await makeCa(cwd);
  });

  it('apply redraws "Issuing N/30 certificates" in place up to 30/30, erases it, then prints its summary', async () => {
    const result = await applyNext('a', () => onTerminal(['apply', '--yes'], cwd, TERMINAL));
    assert.equal(result.code, 0, result.stdout);
    const { frames, last } = progressOf(result.stdout);
    const issued = counts(frames, 'Issuing', 'certificates', COUNT);
    assert.ok(issued.length >= 1, result.stdout);
    assert.equal(issued.at(-1), COUNT, result.stdout);
    counts(frames, 'Comparing', 'manifest entries', COUNT);
    assert.equal(frames.at(-1), `Committing ${COUNT} changes...`);
    // The line is erased before the summary, which is the last thing printed.
    assert.doesNotMatch(last, /Issuing|Committing/);
    assert.match(last, APPLIED);
  });

  it('check redraws "Reading" then "Verifying N/TOTAL certificates" up to TOTAL/TOTAL, then its summary', async () => {
    const result = await onTerminal(['check'], cwd, TERMINAL);
    assert.equal(result.code, 0, result.stdout);
    const { frames, last } = progressOf(result.stdout);
    const total = Number(CHECKED.exec(last)?.[1]);
    assert.equal(total, COUNT + 2, last); // the root and the intermediate too
    assert.equal(counts(frames, 'Reading', 'certificates', total).at(-1), total, result.stdout);
    assert.equal(counts(frames, 'Verifying', 'certificates', total).at(-1), total, result.stdout);
    assert.match(frames.at(-1) ?? '', new RegExp(`^Verifying ${total}/${total} certificates`));
  });

  it('on a pipe, apply and check print their summary and no progress', async () => {
    const applied = await applyNext('b', () => run(['apply', '--yes'], { cwd, env: TERMINAL }));
    assert.equal(applied.code, 0, applied.stderr);
    const checked = await run(['check'], { cwd, env: TERMINAL });
    assert.equal(checked.code, 0, checked.stderr);
    for (const result of [applied, checked]) {
      assert.doesNotMatch(result.stderr, /\r|\x1b|Issuing|Reading|Verifying|Committing/);
      assert.equal(result.stdout, '');
    }
    assert.match(applied.stderr, APPLIED);
    assert.match(checked.stderr, CHECKED);
  });

  for (const [why, env, flag] of [
    ['CI=1', { ...TERMINAL, CI: '1' }, []],
    ['--quiet', TERMINAL, ['--quiet']],
  ] as const) {
    it(`on a terminal with ${why}, apply and check print their summary and no progress`, async () => {
      const applied = await applyNext(`quiet-${sets.length}`, () => onTerminal(['apply', '--yes', ...flag], cwd, env));
      const checked = await onTerminal(['check', ...flag], cwd, env);
      for (const result of [applied, checked]) {
        assert.equal(result.code, 0, result.stdout);
        assert.ok(!result.stdout.includes(CLEAR), result.stdout);
        assert.doesNotMatch(result.stdout, /Issuing|Reading|Verifying|Committing|\d+\/\d+ /);
      }
      assert.match(applied.stdout, APPLIED);
      assert.match(checked.stdout, CHECKED);
    });
  }

  it('plan, crl and trust draw their counts too, then their summary', async () => {
    const total = COUNT * sets.length;
    const plan = await onTerminal(['plan'], cwd, TERMINAL);
    assert.equal(plan.code, 0, plan.stdout);
    assert.equal(counts(progressOf(plan.stdout).frames, 'Comparing', 'manifest entries', total).at(-1), total, plan.stdout);
    assert.match(progressOf(plan.stdout).last, new RegExp(`^Nothing to do: the CA matches certificates\\.yaml \\(${total} certificates\\)\\.\\r?\\n$`));

    // With the root's password given: on a terminal, crl would ask for it.
    const crl = await onTerminal(['crl'], cwd, { ...TERMINAL, CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD });
    assert.equal(crl.code, 0, crl.stdout);
    assert.equal(counts(progressOf(crl.stdout).frames, 'Re-signing', 'CRLs', 2).at(-1), 2, crl.stdout);
    assert.match(progressOf(crl.stdout).last, /Committed as [0-9a-f]{12}\.\r?\n$/);

    const home = tempDir('certified-home-');
    const nss = join(home, '.pki/nssdb');
    mkdirSync(nss, { recursive: true });
    assert.equal(tool('certutil', ['-N', '-d', `sql:${nss}`, '--empty-password']).status, 0);
    const trust = await onTerminal(['trust', '--nss'], cwd, { ...TERMINAL, HOME: home });
    assert.equal(trust.code, 0, trust.stdout);
    assert.deepEqual(progressOf(trust.stdout).frames, ['Updating 0/1 trust stores', 'Updating 1/1 trust stores']);
    assert.match(progressOf(trust.stdout).last, /Installed the root "Example CA" \(SHA-256 [0-9A-F:]+\) into 1 store\./);
  });

  it('CI=false does not turn it off (nor "" or "0": see the unit test)', async () => {
    const result = await onTerminal(['check'], cwd, { ...TERMINAL, CI: 'false' });
    assert.equal(result.code, 0, result.stdout);
    assert.ok(progressOf(result.stdout).frames.some((frame) => frame.startsWith('Verifying ')), result.stdout);
  });
});
