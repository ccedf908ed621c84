import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { CommanderError } from 'commander';
import { buildProgram, type CommandError } from '../../src/cli/program.js';
import { ROOT_PASSWORD, commitCount, makeCa, openssl, run, snapshot, tempDir, type RunResult } from '../helpers/cli.js';

const ENV = { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD };

/** Runs `jobs` a few at a time: the machine is small and shared. */
async function inBatches<T>(jobs: (() => Promise<T>)[], size = 4): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < jobs.length; i += size) results.push(...(await Promise.all(jobs.slice(i, i + size).map((job) => job()))));
  return results;
}

/** The options each command declares, read from the program itself, so this matrix cannot go stale. */
function declared(): Map<string, { options: Map<string, boolean>; operands: string[] }> {
  const table = new Map<string, { options: Map<string, boolean>; operands: string[] }>();
  for (const command of buildProgram('0.0.0', []).commands) {
    const options = new Map(command.options.map((option) => [option.long ?? '', option.required || option.optional] as const));
    const operands = command.registeredArguments.filter((argument) => argument.required).map(() => 'x.csr');
    table.set(command.name(), { options, operands });
  }
  return table;
}

/** For each command, the options only other commands declare, each with a value if it takes one. */
function foreignOptions(): [string, string[], string[][]][] {
  const table = declared();
  const all = new Map<string, boolean>();
  for (const { options } of table.values()) for (const [flag, takesValue] of options) all.set(flag, takesValue);
  return [...table].map(([name, { options, operands }]) => [
    name,
    operands,
    [...all].filter(([flag]) => !options.has(flag)).map(([flag, takesValue]) => (takesValue ? [flag, 'x'] : [flag])),
  ]);
}

const refusal = (flag: string, command: string): RegExp =>
  new RegExp(`^certified: unknown option '${flag}' for "${command}"(, did you mean [^?\n]+\\?|\\.) Run "certified ${command} --help" for usage\\.\\n$`);

describe('flags that were silently dropped are refused, naming the command', () => {
  let cwd: string;
  before(async () => {
    cwd = tempDir();
    await makeCa(cwd);
  });

  const cases: [string[], string][] = [
    [['--reason', 'keyCompromise', 'CN=x.example.com'], `certified: unknown option '--reason' for "issue". Run "certified issue --help" for usage.\n`],
    [['--crl-days', '5', 'CN=x.example.com'], `certified: unknown option '--crl-days' for "issue". Run "certified issue --help" for usage.\n`],
    [['--self-signed', '--permit-email', 'x', 'CN=y.example.com'], `certified: unknown option '--permit-email' for "self-signed". Run "certified self-signed --help" for usage.\n`],
    [['--ca', '--crl-days', '5', 'CN=Other CA'], `certified: unknown option '--crl-days' for "init". Run "certified init --help" for usage.\n`],
    [['--ca', '--issuer', 'ca', '--permit-dns', 'example.com', 'CN=Team CA'], `certified: --permit-dns goes with --issuer only for --csr: a sub-CA takes the name constraints of the CA it is under. Drop --permit-dns, or sign an engine's CSR with --csr FILE.\n`],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), async () => {
      const before = snapshot(cwd);
      const result = await run(args, { cwd, env: ENV });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr, message);
      assert.equal(result.stdout, '');
      assert.deepEqual(snapshot(cwd), before);
    });
  }

  it('certified lss is an unknown command with a suggestion, not a subject', async () => {
    const result = await run(['lss'], { cwd });
    assert.equal(result.code, 2);
    assert.equal(result.stderr, `certified: unknown command 'lss', did you mean 'ls'? Run "certified --help" for usage.\n`);
    const help = await run(['help', 'lss'], { cwd });
    assert.equal(help.stderr, result.stderr);
  });

  it('init takes --name, --password and --ca-password only with --issuer', async () => {
    const result = await run(['init', '--name', 'x', 'CN=Other CA'], { cwd, env: ENV });
    assert.equal(result.code, 2);
    assert.equal(result.stderr, `certified: option '--name <name>' can only be used with option '--issuer <ca>'. Run "certified init --help" for usage.\n`);
  });
});

describe('every command refuses the options of the others', () => {
  it('in the parser, for every pair of command and foreign option', async () => {
    let count = 0;
    for (const [name, operands, foreign] of foreignOptions()) {
      for (const option of foreign) {
        const program = buildProgram('0.0.0', []);
        const error = await program.parseAsync([name, ...operands, ...option], { from: 'user' }).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        assert.ok(error instanceof CommanderError, `${name} ${option.join(' ')} was accepted`);
        assert.equal(error.code, 'commander.unknownOption', `${name} ${option.join(' ')}: ${error.message}`);
        assert.equal((error as CommandError).commandName, name);
        count++;
      }
    }
    assert.ok(count > 200, `only ${count} pairs`);
  });

  it('from the command line: exit 2, one line naming the option and the command, nothing written', async () => {
    const ca = tempDir();
    await makeCa(ca);
    const db = join(ca, 'etc/ssl');
    const commits = commitCount(db);
    const before = snapshot(ca);
    const jobs = foreignOptions().flatMap(([name, operands, foreign], index) => {
      // Two foreign options per command, spread so that the matrix covers many different ones.
      const picks = [foreign[index % foreign.length] ?? [], foreign[(index * 7 + 3) % foreign.length] ?? []];
      return picks.map((option, pick) => async () => {
        const cwd = pick === 0 ? tempDir() : ca;
        const result = await run([name, ...operands, ...option], { cwd, env: ENV });
        return { name, option, cwd, result };
      });
    });
    for (const { name, option, cwd, result } of await inBatches(jobs)) {
      const what = `${name} ${option.join(' ')}`;
      assert.equal(result.code, 2, `${what}: ${result.stderr}`);
      assert.match(result.stderr, refusal(option[0] ?? '', name), what);
      // Asked for JSON (by the foreign option itself), the refusal is also the JSON error on stdout (docs/json.md).
      if (option[0] === '--json') assert.equal((JSON.parse(result.stdout) as { error: { code: string } }).error.code, 'USAGE', what);
      else assert.equal(result.stdout, '', what);
      if (cwd !== ca) assert.deepEqual(readdirSync(cwd), [], `${what} wrote in an empty directory`);
    }
    assert.deepEqual(snapshot(ca), before);
    assert.equal(commitCount(db), commits);
  });
});

/** What makes two runs the same kind of run: exit code, the shape of stderr and stdout, the files, the certificates. */
function shape(text: string, dir: string): string {
  return text
    .replaceAll(dir, '<dir>')
    .replace(/-----BEGIN ([A-Z ]+)-----[^-]+-----END \1-----/g, '<$1>')
    .replace(/\b[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){7,}\b|\b[0-9a-f]{12,}\b|\b[0-9A-F]{16,}\b/g, '<hex>')
    // CRL numbers are signing times in seconds: two runs may be a second apart.
    .replace(/(CRL number|number) \d+/g, '$1 <n>');
}

function files(dir: string): string[] {
  return [...snapshot(dir).keys()].filter((path) => !path.startsWith('etc/ssl/.git/')).map((path) => shape(path, dir)).sort();
}

/** The certificate as OpenSSL reads it: subject, issuer, SANs, key usage, EKU, basic constraints. */
function certificateKind(path: string): string {
  const out = openssl(['x509', '-in', path, '-noout', '-subject', '-issuer', '-ext', 'subjectAltName,keyUsage,extendedKeyUsage,basicConstraints']);
  assert.equal(out.status, 0, out.stderr);
  return out.stdout;
}

function certificates(dir: string): Record<string, string> {
  const certs = join(dir, 'etc/ssl/certs');
  const kinds: Record<string, string> = {};
  if (!existsSync(certs)) return kinds;
  for (const file of readdirSync(certs).filter((name) => name.endsWith('.crt') && !name.endsWith('.chain.crt'))) {
    kinds[file] = certificateKind(join(certs, file));
  }
  return kinds;
}

function assertSameOutcome(seed: RunResult, sub: RunResult, seedDir: string, subDir: string, what: string): void {
  assert.equal(seed.code, sub.code, `${what}: ${seed.stderr} / ${sub.stderr}`);
  assert.equal(shape(seed.stderr, seedDir), shape(sub.stderr, subDir), what);
  assert.equal(shape(seed.stdout, seedDir), shape(sub.stdout, subDir), what);
  assert.deepEqual(files(seedDir), files(subDir), what);
  assert.deepEqual(certificates(seedDir), certificates(subDir), what);
  assert.equal(commitCount(join(seedDir, 'etc/ssl')), commitCount(join(subDir, 'etc/ssl')), what);
}

/** A new intermediate under the existing root keeps the saved URLs and name constraints: init refuses new ones (it dropped --permit-* silently). */
async function assertReplacementRefuses(cwd: string): Promise<void> {
  const before = snapshot(cwd);
  for (const [flag, value] of [['--permit-dns', 'example.com'], ['--permit-email', 'example.com'], ['--crl-url', 'http://pki.example.com/ca.crl']] as const) {
    const result = await run(['init', flag, value], { cwd, env: ENV });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr, `certified: ${flag} does not go with a new intermediate under the existing root (the saved defaults are kept). Drop ${flag}.\n`);
  }
  assert.deepEqual(snapshot(cwd), before);
}

describe('each seed form does exactly what its command does', () => {
  it('in two fresh CAs, step by step: --ca, CN=.., --csr, --self-signed, --no-sign, --ca --issuer, --revoke, --ca --revoke', async () => {
    const seedDir = tempDir();
    const subDir = tempDir();
    const csrDir = tempDir();
    const csr = join(csrDir, 'vendor.csr');
    const made = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(csrDir, 'vendor.key'), '-out', csr, '-subj', '/CN=csr.example.com', '-addext', 'subjectAltName=DNS:csr.example.com']);
    assert.equal(made.status, 0, made.stderr);

    const steps: [string, string[], string[]][] = [
      ['--ca', ['--ca', 'C=US', 'O=Example', 'CN=Example CA'], ['init', 'C=US', 'O=Example', 'CN=Example CA']],
      ['CN=..', ['CN=host.example.com', '+alt.example.com', '+10.0.0.1', '--client'], ['issue', 'CN=host.example.com', '+alt.example.com', '+10.0.0.1', '--client']],
      ['--csr FILE', ['--csr', csr, '--server', '--days', '90'], ['sign', csr, '--server', '--days', '90']],
      ['--self-signed', ['--self-signed', 'CN=dev.local', '+localhost'], ['self-signed', 'CN=dev.local', '+localhost']],
      ['--no-sign', ['--no-sign', 'O=Vendor', 'CN=vendor.example.com', '+www.vendor.example.com'], ['request', 'O=Vendor', 'CN=vendor.example.com', '+www.vendor.example.com']],
      ['--ca --issuer', ['--ca', '--issuer', 'ca', 'CN=Team CA'], ['init', '--issuer', 'ca', 'CN=Team CA']],
      ['--revoke', ['--revoke', '--reason', 'keyCompromise', 'CN=host.example.com'], ['revoke', '--reason', 'keyCompromise', 'CN=host.example.com']],
      ['--ca --revoke', ['--ca', '--revoke', '--reason', 'cessationOfOperation'], ['revoke', '--ca', '--reason', 'cessationOfOperation']],
      ['--ca (a new intermediate)', ['--ca'], ['init']],
    ];
    for (const [what, seedArgs, subArgs] of steps) {
      if (what.startsWith('--ca (a new intermediate)')) await assertReplacementRefuses(subDir);
      const [seed, sub] = await Promise.all([run(seedArgs, { cwd: seedDir, env: ENV }), run(subArgs, { cwd: subDir, env: ENV })]);
      assert.equal(seed.code, 0, `${what}: ${seed.stderr}`);
      assertSameOutcome(seed, sub, seedDir, subDir, what);
    }
  });

  it('and refuses a foreign option exactly like its command', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const pairs: [string[], string[]][] = [
      [['--ca', '--client', 'CN=Other CA'], ['init', '--client', 'CN=Other CA']],
      [['--ca', '--issuer', 'ca', '--crl-url', 'http://x/', 'CN=Team CA'], ['init', '--issuer', 'ca', '--crl-url', 'http://x/', 'CN=Team CA']],
      [['CN=x.example.com', '--reason', 'keyCompromise'], ['issue', 'CN=x.example.com', '--reason', 'keyCompromise']],
      [['--revoke', '--days', '5', 'CN=x.example.com'], ['revoke', '--days', '5', 'CN=x.example.com']],
      [['--ca', '--revoke', '--name', 'x'], ['revoke', '--ca', '--name', 'x']],
      [['--ca', '--revoke', '--self-signed'], ['revoke', '--ca', '--self-signed']],
      [['--self-signed', '--issuer', 'ca', 'CN=x.example.com'], ['self-signed', '--issuer', 'ca', 'CN=x.example.com']],
      [['--no-sign', '--days', '5', 'CN=x.example.com'], ['request', '--days', '5', 'CN=x.example.com']],
      [['--csr', 'x.csr', '--password', 'x'], ['sign', 'x.csr', '--password', 'x']],
      [['--csr=x.csr', '--key-type', 'rsa'], ['sign', 'x.csr', '--key-type', 'rsa']],
    ];
    const before = snapshot(cwd);
    const results = await inBatches(pairs.map(([seed, sub]) => async () => [await run(seed, { cwd, env: ENV }), await run(sub, { cwd, env: ENV })] as const));
    results.forEach(([seed, sub], index) => {
      const what = pairs[index]?.[0].join(' ') ?? '';
      assert.equal(seed.code, 2, `${what}: ${seed.stderr}`);
      assert.equal(sub.code, 2, what);
      assert.equal(seed.stderr, sub.stderr, what);
      assert.match(seed.stderr, /^certified: [^\n]+ Run "certified [a-z-]+ --help" for usage\.\n$/, what);
    });
    assert.deepEqual(snapshot(cwd), before);
  });
});

describe('help', () => {
  it('"help CMD" and "CMD --help" show the command options and examples; the root lists the commands and the classic forms', async () => {
    const cwd = tempDir();
    const [help, flag, root] = await Promise.all([run(['help', 'issue'], { cwd }), run(['issue', '--help'], { cwd }), run(['--help'], { cwd })]);
    assert.equal(help.code, 0);
    assert.equal(help.stdout, flag.stdout);
    assert.match(help.stdout, /^Usage: certified issue \[options\] \[subject\.\.\.\]\n/);
    assert.match(help.stdout, /\n  --ca-password <password> +password of the issuing CA key\n/);
    assert.doesNotMatch(help.stdout, /--reason|--crl-days|--root-password/);
    assert.match(help.stdout, /\nExamples:\n  \$ certified issue CN=host\.example\.com/);
    assert.match(root.stdout, /\n  sign \[options\] <csr-file> +sign a CSR made elsewhere\n/);
    assert.match(root.stdout, /\n  certified --csr FILE \.\.\. +certified sign FILE \.\.\.\n/);
    assert.match(root.stdout, /\n  \$ certified --revoke --reason keyCompromise CN=host\.example\.com\n/);
    const seedHelp = await run(['--ca', '--help'], { cwd });
    assert.match(seedHelp.stdout, /^Usage: certified init /);
    assert.deepEqual(readdirSync(cwd), []);
  });
});
