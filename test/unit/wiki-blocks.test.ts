import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractBlocks, parseAttributes, substituteVariables } from '../helpers/wiki-blocks.js';

const FENCE = '```';

describe('extractBlocks', () => {
  it('reads sh, nginx and js blocks in order, with their attributes, line and section', () => {
    const page = [
      '# Page',
      `${FENCE}sh`,
      'certified --ca CN=x',
      FENCE,
      '## Second',
      `${FENCE}yaml`,
      'not: run',
      FENCE,
      `${FENCE}nginx file=sites/web.conf`,
      'listen $PORT;',
      FENCE,
      `${FENCE}sh expect="Hello, alice" fails`,
      'curl x',
      FENCE,
      `${FENCE}js skip=macos`,
      'console.log(1)',
      FENCE,
    ].join('\n');
    const blocks = extractBlocks(page);
    assert.deepEqual(
      blocks.map((block) => [block.language, Object.fromEntries(block.attributes), block.line, block.section, block.body]),
      [
        ['sh', {}, 2, '', 'certified --ca CN=x\n'],
        ['nginx', { file: 'sites/web.conf' }, 9, 'Second', 'listen $PORT;\n'],
        ['sh', { expect: 'Hello, alice', fails: '' }, 12, 'Second', 'curl x\n'],
        ['js', { skip: 'macos' }, 15, 'Second', 'console.log(1)\n'],
      ],
    );
  });

  it('refuses an unclosed fence and an unknown attribute, naming the line', () => {
    assert.throws(() => extractBlocks(`a\n${FENCE}sh\nls\n`, 'wiki/x.md'), /^Error: wiki\/x\.md:2: unclosed code block$/);
    assert.throws(() => extractBlocks(`${FENCE}sh expext=x\nls\n${FENCE}\n`, 'wiki/x.md'), /wiki\/x\.md:1: unknown block attribute "expext"/);
  });
});

describe('parseAttributes', () => {
  it('takes bare words, key=value and key="quoted value"', () => {
    assert.deepEqual(Object.fromEntries(parseAttributes('skip=windows fails expect="a b=c"')), { skip: 'windows', fails: '', expect: 'a b=c' });
  });
});

describe('substituteVariables', () => {
  it('replaces the page variables and leaves nginx variables alone', () => {
    const text = 'listen $PORT2; ssl_certificate $CA_DIR/certs/a.crt; return 200 "$ssl_client_s_dn $PORT";';
    assert.equal(
      substituteVariables(text, { CA_DIR: '/ca', PORT: '1', PORT2: '2', PORT3: '3' }),
      'listen 2; ssl_certificate /ca/certs/a.crt; return 200 "$ssl_client_s_dn 1";',
    );
  });
});
