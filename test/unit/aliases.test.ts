import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rewriteAliases } from '../../src/cli/aliases.js';
import { buildProgram, commandNames, declaredOptions } from '../../src/cli/program.js';

const program = buildProgram('0.0.0', []);
const surface = { commands: commandNames(program), ...declaredOptions(program) };
const rewrite = (...argv: string[]): string[] => rewriteAliases(argv, surface);

describe('the seed forms are rewritten to their command', () => {
  const cases: [string[], string[]][] = [
    [['--ca', 'CN=Example CA'], ['init', 'CN=Example CA']],
    [['C=US', '--ca', '--root-password', '-', 'CN=Example CA'], ['init', 'C=US', '--root-password', '-', 'CN=Example CA']],
    [['--ca', '--issuer', 'ca', 'CN=Team CA'], ['init', '--issuer', 'ca', 'CN=Team CA']],
    [['--ca', '--revoke', '--reason', 'keyCompromise'], ['revoke', '--ca', '--reason', 'keyCompromise']],
    [['--revoke', '--ca'], ['revoke', '--ca']],
    [['--revoke', 'CN=host.example.com'], ['revoke', 'CN=host.example.com']],
    [['CN=dev.local', '--self-signed'], ['self-signed', 'CN=dev.local']],
    [['--no-sign', 'CN=vendor.example.com', '+www.vendor.example.com'], ['request', 'CN=vendor.example.com', '+www.vendor.example.com']],
    [['--csr', 'request.csr', '--server'], ['sign', 'request.csr', '--server']],
    [['--server', '--csr=request.csr', '--days', '90'], ['sign', 'request.csr', '--server', '--days', '90']],
    [['--csr'], ['sign']],
    [['CN=host.example.com', '+alt.example.com'], ['issue', 'CN=host.example.com', '+alt.example.com']],
    [['+alt.example.com', 'CN=host.example.com'], ['issue', '+alt.example.com', 'CN=host.example.com']],
    [['--client', '--days', '90'], ['issue', '--client', '--days', '90']],
    [['--', 'CN=x'], ['issue', '--', 'CN=x']],
  ];
  for (const [argv, expected] of cases) {
    it(argv.join(' '), () => assert.deepEqual(rewrite(...argv), expected));
  }

  it('takes the first mode in the seed order and leaves the others for the parser to refuse', () => {
    assert.deepEqual(rewrite('--revoke', '--self-signed', 'CN=x'), ['revoke', '--self-signed', 'CN=x']);
    assert.deepEqual(rewrite('--self-signed', '--no-sign', 'CN=x'), ['self-signed', '--no-sign', 'CN=x']);
    assert.deepEqual(rewrite('--ca', '--csr', 'f', 'CN=x'), ['init', '--csr', 'f', 'CN=x']);
  });
});

describe('values and commands are not mistaken for each other', () => {
  it('never reads an option value as a mode flag or a command', () => {
    assert.deepEqual(rewrite('--name', 'ls', 'CN=x'), ['issue', '--name', 'ls', 'CN=x']);
    assert.deepEqual(rewrite('--password', '--ca', 'CN=x'), ['issue', '--password', '--ca', 'CN=x']);
    assert.deepEqual(rewrite('--password', '--revoke', '--self-signed', 'CN=x'), ['self-signed', '--password', '--revoke', 'CN=x']);
    assert.deepEqual(rewrite('--name', '--csr', 'CN=x'), ['issue', '--name', '--csr', 'CN=x']);
    assert.deepEqual(rewrite('--issuer', 'init', '--revoke', 'CN=x'), ['revoke', '--issuer', 'init', 'CN=x']);
    assert.deepEqual(rewrite('--name=ls', 'CN=x'), ['issue', '--name=ls', 'CN=x']);
  });

  it('leaves a command in front alone, whatever follows it', () => {
    for (const argv of [['ls'], ['issue', '--ca', 'CN=x'], ['revoke', '--ca'], ['sign', 'x.csr', '--csr', 'y'], ['help', 'issue']]) {
      assert.deepEqual(rewrite(...argv), argv);
    }
  });

  it('moves a command after options to the front', () => {
    assert.deepEqual(rewrite('--db', 'etc/ca', 'ls', '--json'), ['ls', '--db', 'etc/ca', '--json']);
    assert.deepEqual(rewrite('--db', 'd', 'revoke', '--ca'), ['revoke', '--db', 'd', '--ca']);
  });

  it('makes any other first word an unknown command, for the did-you-mean', () => {
    assert.deepEqual(rewrite('lss'), ['lss']);
    assert.deepEqual(rewrite('--db', 'd', 'lss'), ['lss', '--db', 'd']);
    assert.deepEqual(rewrite('help', 'lss'), ['lss']);
  });

  it('takes the word after an option no command knows as its value, so the command refuses the option', () => {
    assert.deepEqual(rewrite('--reasn', 'x', 'CN=y'), ['issue', '--reasn', 'x', 'CN=y']);
    assert.deepEqual(rewrite('--frobnicate', 'CN=ok.example.com'), ['issue', '--frobnicate', 'CN=ok.example.com']);
  });

  it('keeps the root help and version, and no arguments', () => {
    for (const argv of [[], ['--help'], ['-h'], ['-V'], ['--version']]) assert.deepEqual(rewrite(...argv), argv);
    assert.deepEqual(rewrite('--ca', '--help'), ['init', '--help']);
    assert.deepEqual(rewrite('CN=x', '--help'), ['issue', 'CN=x', '--help']);
  });
});

describe('the command surface', () => {
  it('has no option that takes a value in one command and none in another (the rewriting relies on it)', () => {
    const { valueOptions, flagOptions } = declaredOptions(program);
    assert.deepEqual([...valueOptions].filter((flag) => flagOptions.has(flag)), []);
  });

  it('declares no mode flag of the seed except revoke --ca and init --csr (what --ca --csr FILE becomes)', () => {
    for (const command of program.commands) {
      const longs = command.options.map((option) => option.long);
      for (const mode of ['--revoke', '--self-signed', '--no-sign']) assert.ok(!longs.includes(mode), `${command.name()} ${mode}`);
      assert.equal(longs.includes('--csr'), command.name() === 'init', `${command.name()} --csr`);
      assert.equal(longs.includes('--ca'), command.name() === 'revoke', command.name());
    }
  });

  it('gives every command a lowercase summary without a period and examples', () => {
    for (const command of program.commands) {
      assert.match(command.description(), /^[a-z][^\n]*[^.]$/, command.name());
    }
  });
});
