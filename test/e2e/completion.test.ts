import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { buildProgram } from '../../src/cli/program.js';
import { REVOCATION_REASONS } from '../../src/ca/revocation/reasons.js';
import { REPO, ROOT_PASSWORD, baseEnv, freshCa, run, tempDir } from '../helpers/cli.js';

/** Whether `shell` runs here (zsh and fish are not on every machine). */
const has = (shell: string): boolean => spawnSync(shell, ['-c', 'exit 0']).status === 0;

/** The commands users type, read from the program: help lists them all, the hidden merge driver aside. */
const COMMANDS = [
  ...buildProgram('0.0.0', [])
    .commands.filter((command) => command.name() !== 'merge-crl')
    .map((command) => command.name()),
  'help',
];
const NAMES = ['alice', 'db', 'web.example.com'];

let cwd: string;
let db: string;
const scripts: Record<string, string> = {};

before(async () => {
  ({ cwd, db } = await freshCa());
  for (const args of [['CN=web.example.com'], ['--name', 'db', 'CN=Data base'], ['--client', 'CN=alice', '+alice@example.com']]) {
    const result = await run(args, { cwd, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } });
    assert.equal(result.code, 0, result.stderr);
  }
  for (const shell of ['bash', 'zsh', 'fish']) {
    const result = await run(['completion', shell], { cwd: tempDir() });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    scripts[shell] = join(cwd, `certified.${shell}`);
    writeFileSync(scripts[shell], result.stdout);
    const json = await run(['completion', shell, '--json'], { cwd: tempDir() });
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), { shell, script: result.stdout }, `${shell}: --json holds the same script`);
  }
});

interface Where {
  cwd?: string;
  env?: Record<string, string | undefined>;
}

/** What bash completes for `words` (the last one is the word under the cursor), as the registered function. */
function bash(words: string[], where: Where = {}): string[] {
  const program = 'source "$0" && [[ $(complete -p certified) == "complete -F _certified certified" ]] || exit 9\nCOMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _certified; printf "%s\\n" "${COMPREPLY[@]}"';
  return lines(spawnSync('bash', ['--norc', '-c', program, scripts.bash ?? '', ...words], spawnOptions(where)), words);
}

/** What fish itself completes for the command line `line`. */
function fish(line: string, where: Where = {}): string[] {
  const result = spawnSync('fish', ['--no-config', '-c', 'source $argv[1]; complete -C"$argv[2]"', scripts.fish ?? '', line], spawnOptions(where));
  return lines(result, [line]).map((candidate) => candidate.split('\t')[0] ?? '');
}

/**
 * What the zsh function adds for `words`, with compsys's compadd, _describe and _files replaced by
 * stand-ins that print what they are given (filtered by the word typed, as zsh does): zsh offers
 * no way to run a completion widget without a terminal.
 */
function zsh(words: string[], where: Where = {}): string[] {
  const program = `
compadd() { local filter=1 w; while [[ $# -gt 0 && $1 != -- ]]; do [[ $1 == -U ]] && filter=; shift; done; shift; for w; do [[ -z $filter || $w == "$PREFIX"* ]] && print -r -- "$w"; done; }
_describe() { local array=\${@[-1]} w; for w in "\${(@P)array}"; do w=\${w%%:*}; [[ $w == "$PREFIX"* ]] && print -r -- "$w"; done; }
_files() { print -r -- "(files $*)"; }
compset() { PREFIX=\${PREFIX#*=}; }
compdef() { print -r -- "compdef $*"; }
[[ $(source "$1") == 'compdef _certified certified' ]] || exit 9
source "$1" >/dev/null
shift
words=("$@"); CURRENT=$#; PREFIX=\${words[CURRENT]}
_certified
:`;
  return lines(spawnSync('zsh', ['-f', '-c', program, 'zsh', scripts.zsh ?? '', ...words], spawnOptions(where)), words);
}

function spawnOptions(where: Where): { cwd: string; env: NodeJS.ProcessEnv; encoding: 'utf8' } {
  return { cwd: where.cwd ?? cwd, env: baseEnv(where.env), encoding: 'utf8' };
}

function lines(result: ReturnType<typeof spawnSync>, words: string[]): string[] {
  assert.equal(result.status, 0, `${words.join(' ')}: ${String(result.stderr)}`);
  assert.equal(String(result.stderr), '', words.join(' '));
  return String(result.stdout).split('\n').filter((line) => line !== '');
}

const sorted = (words: readonly string[]): string[] => [...words].sort();

describe('certified completion', () => {
  it('refuses a shell it does not know: one line naming the three, exit 2', async () => {
    const result = await run(['completion', 'tcsh'], { cwd: tempDir() });
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      `certified: command-argument value 'tcsh' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish. Run "certified completion --help" for usage.\n`,
    );
  });

  it('loads nothing that reads certificates or the CA: no module of pki/, none of store/ but its file names, no library but commander', () => {
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      // Static imports only: the commands' modules are loaded with import() when they run.
      for (const [, from = ''] of source.matchAll(/^(?:import|export) (?!type )[^;]*? from '([^']+)';$/gms)) {
        if (from.startsWith('.')) visit(resolve(dirname(file), from.replace(/\.js$/, '.ts')));
        else assert.match(from, /^(?:node:|commander$)/, `${file} imports ${from}`);
      }
    };
    for (const file of ['commands/completion.ts', 'completion/surface.ts', 'completion/bash.ts', 'completion/zsh.ts', 'completion/fish.ts', 'program.ts']) {
      visit(join(REPO, 'src/cli', file));
    }
    const loaded = [...seen].map((file) => file.slice(join(REPO, 'src/').length));
    assert.deepEqual(
      loaded.filter((file) => /^(?:pki|store|serve|trust)\//.test(file) && file !== 'store/layout.ts'),
      [],
    );
  });
});

describe('bash completion', () => {
  it('completes the commands, and the seed forms before any', () => {
    assert.deepEqual(bash(['certified', 'rev']), ['revoke']);
    assert.deepEqual(sorted(bash(['certified', 're'])), ['renew', 'request', 'revoke']);
    assert.deepEqual(sorted(bash(['certified', ''])), sorted(COMMANDS));
    assert.deepEqual(bash(['certified', 'help', 'sh']), ['show']);
    const root = bash(['certified', '--']);
    for (const flag of ['--ca', '--revoke', '--self-signed', '--no-sign', '--csr', '--db', '--help', '--version']) assert.ok(root.includes(flag), flag);
  });

  it("completes each command's own options", () => {
    const revoke = bash(['certified', 'revoke', '--']);
    for (const flag of ['--reason', '--name', '--serial', '--ca', '--crl-days', '--db', '--help']) assert.ok(revoke.includes(flag), flag);
    assert.ok(!revoke.includes('--key-type'));
    assert.deepEqual(bash(['certified', 'revoke', '--re']), ['--reason']);
    assert.deepEqual(sorted(bash(['certified', 'issue', '--c'])), ['--ca-password', '--client']);
    // The seed's forms take the options of the command they become.
    assert.deepEqual(bash(['certified', '--revoke', '--rea']), ['--reason']);
    assert.deepEqual(bash(['certified', '--ca', '--permit-d']), ['--permit-dns']);
  });

  it('completes the certificate names of the CA, exactly', () => {
    assert.deepEqual(sorted(bash(['certified', 'revoke', '--name', ''])), NAMES);
    assert.deepEqual(sorted(bash(['certified', 'renew', '--name', 'w'])), ['web.example.com']);
    assert.deepEqual(sorted(bash(['certified', 'export', ''])), NAMES);
    assert.deepEqual(sorted(bash(['certified', '--revoke', '--name', ''])), NAMES);
    // revoke takes CN=.. or --name NAME, never a bare name: a name typed as a word completes as --name=NAME.
    assert.deepEqual(sorted(bash(['certified', 'revoke', ''])), NAMES.map((name) => `--name=${name}`));
    assert.deepEqual(bash(['certified', 'renew', 'd']), ['--name=db']);
    // bash splits "--name=" at "=": what it completes replaces the "=".
    assert.deepEqual(sorted(bash(['certified', 'revoke', '--name', '='])), NAMES.map((name) => `=${name}`));
    assert.deepEqual(bash(['certified', 'revoke', '--name', '=', 'a']), ['alice']);
    // show takes a file too: the names come first, then the files here.
    assert.deepEqual(bash(['certified', 'show', '']).slice(0, 3), NAMES);
  });

  it('finds the CA as certified does: --db, CERTIFIED_DB, the nearest certified.json upward, ./etc/ssl', () => {
    const elsewhere = tempDir();
    assert.deepEqual(bash(['certified', 'revoke', '--name', ''], { cwd: elsewhere }), []);
    assert.deepEqual(sorted(bash(['certified', 'revoke', '--db', db, '--name', ''], { cwd: elsewhere })), NAMES);
    assert.deepEqual(sorted(bash(['certified', '--db', '=', db, 'revoke', '--name', ''], { cwd: elsewhere })), NAMES);
    assert.deepEqual(sorted(bash(['certified', 'revoke', '--db', `'${db}'`, '--name', ''], { cwd: elsewhere })), NAMES);
    assert.deepEqual(sorted(bash(['certified', 'revoke', '--name', ''], { cwd: elsewhere, env: { CERTIFIED_DB: db } })), NAMES);
    const inside = join(db, 'records/ca');
    assert.deepEqual(sorted(bash(['certified', 'revoke', '--name', ''], { cwd: inside })), NAMES);
    // --db wins over CERTIFIED_DB, as in certified.
    assert.deepEqual(bash(['certified', 'revoke', '--db', elsewhere, '--name', ''], { env: { CERTIFIED_DB: db } }), []);
  });

  it('completes fixed values: reasons, key types, issuers, shells', () => {
    assert.deepEqual(bash(['certified', 'revoke', '--reason', '']), [...REVOCATION_REASONS]);
    assert.deepEqual(bash(['certified', '--revoke', '--reason', '=', 'k']), ['keyCompromise']);
    assert.deepEqual(bash(['certified', 'revoke', '--reason', '=']), REVOCATION_REASONS.map((reason) => `=${reason}`));
    assert.deepEqual(bash(['certified', 'issue', '--key-type', '']), ['ecdsa', 'rsa']);
    assert.deepEqual(bash(['certified', 'CN', '=', 'x.example.com', '--key-type', 'r']), ['rsa']);
    assert.deepEqual(bash(['certified', 'rotate-root', '--key-type', 'e']), ['ecdsa']);
    // The last CRL of a replaced intermediate, kept published, names no CA that signs.
    writeFileSync(join(db, 'crl/ca-3ac3526a3c731e42821fe4bb72a6950e.crl'), '');
    assert.deepEqual(sorted(bash(['certified', 'crl', '--issuer', ''])), ['ca', 'root-ca']);
    // The root signs only CAs: it is offered for a sub-CA, never for a server or client certificate.
    assert.deepEqual(sorted(bash(['certified', 'init', '--issuer', ''])), ['ca', 'root-ca']);
    for (const words of [['issue', '--issuer', ''], ['sign', '--issuer', ''], ['renew', '--issuer', ''], ['CN', '=', 'x.example.com', '--issuer', '']]) {
      assert.deepEqual(bash(['certified', ...words]), ['ca'], words.join(' '));
    }
    assert.deepEqual(bash(['certified', 'completion', '']), ['bash', 'zsh', 'fish']);
    // A password or a number is not guessed.
    assert.deepEqual(bash(['certified', 'revoke', '--ca-password', '']), []);
  });

  it('completes directories for --db and files for --csr', () => {
    mkdirSync(join(cwd, 'requests'), { recursive: true });
    writeFileSync(join(cwd, 'requests/vendor.csr'), '');
    assert.deepEqual(bash(['certified', 'ls', '--db', 'e']), ['etc']);
    assert.deepEqual(bash(['certified', '--csr', 'requests/v']), ['requests/vendor.csr']);
    assert.deepEqual(bash(['certified', 'sign', 'requests/']), ['requests/vendor.csr']);
  });

  it('never puts shell syntax on the command line: foreign names are left out, files after a prefix quoted', () => {
    const other = tempDir();
    mkdirSync(join(other, 'certs'));
    writeFileSync(join(other, 'certified.json'), '{}');
    for (const name of ['web', '$(touch pwned)', 'a;b', 'two words']) writeFileSync(join(other, `certs/${name}.crt`), '');
    assert.deepEqual(bash(['certified', 'revoke', ''], { cwd: other }), ['--name=web']);
    mkdirSync(join(other, 'in'));
    writeFileSync(join(other, 'in/a b;c.csr'), '');
    assert.deepEqual(bash(['certified', '--csr=in/a'], { cwd: other }), ['--csr=in/a\\ b\\;c.csr']);
  });
});

describe('zsh completion', { skip: has('zsh') ? false : 'zsh is not installed' }, () => {
  it('is valid zsh', () => {
    const result = spawnSync('zsh', ['-n', scripts.zsh ?? ''], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  });

  it('adds the commands, options, names and values', () => {
    assert.deepEqual(zsh(['certified', 'rev']), ['revoke']);
    assert.deepEqual(sorted(zsh(['certified', ''])), sorted(COMMANDS));
    assert.deepEqual(zsh(['certified', 'revoke', '--rea']), ['--reason']);
    assert.deepEqual(sorted(zsh(['certified', 'revoke', '--name', ''])), NAMES);
    assert.deepEqual(sorted(zsh(['certified', 'revoke', ''])), NAMES.map((name) => `--name=${name}`));
    assert.deepEqual(sorted(zsh(['certified', 'revoke', '--db', db, '--name', ''], { cwd: tempDir() })), NAMES);
    assert.deepEqual(zsh(['certified', 'revoke', '--reason', '']), [...REVOCATION_REASONS]);
    assert.deepEqual(zsh(['certified', '--revoke', '--reason=k']), ['keyCompromise']);
    assert.deepEqual(zsh(['certified', '--ca', '--key-type', '']), ['ecdsa', 'rsa']);
    assert.deepEqual(sorted(zsh(['certified', 'crl', '--issuer', ''])), ['ca', 'root-ca']);
    assert.deepEqual(zsh(['certified', 'issue', '--issuer', '']), ['ca']);
    assert.deepEqual(zsh(['certified', 'revoke', '--name', ''], { cwd: tempDir() }), []);
    assert.deepEqual(zsh(['certified', 'ls', '--db', '']), ['(files -/)']);
  });
});

describe('fish completion', { skip: has('fish') ? false : 'fish is not installed' }, () => {
  it('is valid fish', () => {
    const result = spawnSync('fish', ['--no-config', '-n', scripts.fish ?? ''], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  });

  it('completes the commands, options, names and values in fish itself', () => {
    assert.deepEqual(fish('certified rev'), ['revoke']);
    assert.deepEqual(sorted(fish('certified ')), sorted(COMMANDS));
    assert.deepEqual(fish('certified revoke --rea'), ['--reason']);
    assert.deepEqual(sorted(fish('certified revoke --name ')), NAMES);
    assert.deepEqual(fish('certified renew --name w'), ['web.example.com']);
    assert.deepEqual(fish('certified revoke --name ', { cwd: tempDir() }), []);
    assert.deepEqual(sorted(fish('certified revoke ')), NAMES.map((name) => `--name=${name}`));
    assert.deepEqual(sorted(fish(`certified revoke --db ${db} --name `, { cwd: tempDir() })), NAMES);
    assert.deepEqual(sorted(fish('certified revoke --reason ')), sorted(REVOCATION_REASONS));
    assert.deepEqual(fish('certified --revoke --reason=k'), ['--reason=keyCompromise']);
    assert.deepEqual(fish('certified --ca --key-type '), ['ecdsa', 'rsa']);
    assert.deepEqual(sorted(fish('certified crl --issuer ')), ['ca', 'root-ca']);
    assert.deepEqual(fish('certified issue --issuer '), ['ca']);
  });
});
