import assert from 'node:assert/strict';
import { cpSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { REPO, tempDir } from '../helpers/cli.js';
import { extractBlocks, type WikiBlock } from '../helpers/wiki-blocks.js';
import { cleanUpPage, createPageContext, runBlock, type KeyType } from '../helpers/wiki-page.js';

// Every sh/nginx/js block of every wiki page, run in order against real nginx, curl, OpenSSL, NSS,
// GnuTLS, Node and Chromium, once with the default ECDSA keys and once with RSA keys.
// The convention the pages follow is in wiki/README.md.

const WIKI = join(REPO, 'wiki');
/** Home makes the CA the other pages start from; the rest follow a reader's path. */
const ORDER = ['Home.md', 'trust.md', 'nginx.md', 'node-tls.md', 'client-certificates.md', 'revoke-and-rotate.md', 'operations.md'];

function wikiPages(): string[] {
  const pages = readdirSync(WIKI).filter((name) => name.endsWith('.md') && name !== 'README.md');
  const rank = (name: string) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length);
  return pages.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function blocksOf(page: string): WikiBlock[] {
  return extractBlocks(readFileSync(join(WIKI, page), 'utf8'), `wiki/${page}`);
}

function summary(block: WikiBlock): string {
  const first = block.body.split('\n').find((line) => line.trim() && !line.trim().startsWith('#')) ?? '';
  const file = block.attributes.get('file');
  const skip = block.attributes.get('skip');
  const what = file ? `writes ${file}` : skip !== undefined ? `syntax only (${skip})` : first.trim().slice(0, 60);
  return `line ${block.line} ${block.language}: ${what}`;
}

async function runPage(t: TestContext, page: string, keyType: KeyType, caFrom: string | undefined): Promise<string> {
  const work = tempDir(`certified-wiki-${keyType}-`);
  if (caFrom) cpSync(join(caFrom, 'etc/ssl'), join(work, 'etc/ssl'), { recursive: true });
  const context = await createPageContext(work, keyType);
  try {
    for (const block of blocksOf(page)) {
      await t.test(summary(block), async (blockTest) => {
        const outcome = await runBlock(block, context);
        if (outcome.kind === 'skipped') blockTest.skip(outcome.reason);
      });
    }
  } finally {
    cleanUpPage(context);
  }
  return work;
}

// The two key types run side by side.
describe('wiki pages', { concurrency: 2 }, () => {
  it('are all runnable in a known order, with every block well-formed', () => {
    const pages = wikiPages();
    for (const page of ORDER) assert.ok(pages.includes(page), `wiki/${page} is missing`);
    for (const page of ORDER) assert.ok(blocksOf(page).length > 0, `wiki/${page} has no sh/nginx/js block`);
    for (const page of pages) {
      const text = readFileSync(join(WIKI, page), 'utf8');
      const unrun = /^(?:```|~~~)\s*(bash|shell|console|zsh|javascript|mjs)\b/m.exec(text);
      assert.equal(unrun, null, `wiki/${page}: a "${unrun?.[1]}" block is never run by the tests: label it sh or js`);
    }
  });

  it('only skip blocks for the reasons wiki/README.md lists', () => {
    const conventions = readFileSync(join(REPO, 'wiki/README.md'), 'utf8');
    const skipRow = conventions.split('\n').find((line) => line.startsWith('| `sh skip=REASON` |')) ?? '';
    for (const page of wikiPages()) {
      for (const block of blocksOf(page)) {
        const reason = block.attributes.get('skip');
        if (reason !== undefined) assert.ok(skipRow.includes(`\`${reason}\``), `wiki/${page}:${block.line}: skip=${reason} is not explained in wiki/README.md's skip row`);
      }
    }
  });

  for (const keyType of ['ecdsa', 'rsa'] as const) {
    // Home makes the CA; the other pages each start from their own copy of it, so once Home is
    // done they run two at a time (most of their time is spent waiting on servers and judges).
    describe(`with ${keyType === 'ecdsa' ? 'the default ECDSA keys' : '--key-type rsa'}`, { concurrency: 3 }, () => {
      let homeDone: (work: string | undefined) => void = () => {};
      const home = new Promise<string | undefined>((resolve) => (homeDone = resolve));
      for (const page of wikiPages()) {
        it(`wiki/${page}`, async (t) => {
          if (page === 'Home.md') {
            let work: string | undefined;
            try {
              work = await runPage(t, page, keyType, undefined);
            } finally {
              homeDone(work);
            }
            return;
          }
          const caFrom = await home;
          assert.ok(caFrom, 'wiki/Home.md failed: it makes the CA the other pages use');
          await runPage(t, page, keyType, caFrom);
        });
      }
    });
  }
});
