import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/cli.js';
import { extractBlocks } from '../helpers/wiki-blocks.js';
import { cleanUpPage, createPageContext, runBlock } from '../helpers/wiki-page.js';

const FENCE = '```';

describe('runBlock', () => {
  it('runs a needs=TOOL block when TOOL is installed, and only checks its syntax when it is not', async () => {
    const work = tempDir('certified-wiki-page-');
    const context = await createPageContext(work, 'ecdsa');
    try {
      const [present, absent, broken] = extractBlocks(
        [`${FENCE}sh needs=bash`, 'touch present', FENCE, `${FENCE}sh needs=certified-no-such-tool`, 'touch absent', FENCE, `${FENCE}sh needs=certified-no-such-tool`, 'if then', FENCE].join('\n'),
      );
      assert.deepEqual(await runBlock(present!, context), { kind: 'ran', code: 0, output: '' });
      assert.ok(existsSync(join(work, 'present')));
      assert.deepEqual(await runBlock(absent!, context), { kind: 'skipped', reason: 'certified-no-such-tool is not installed' });
      assert.ok(!existsSync(join(work, 'absent')));
      await assert.rejects(runBlock(broken!, context), /syntax error in the block at line 7/);
    } finally {
      cleanUpPage(context);
    }
  });

  it('runs a needs="TOOL OTHER" block only when every one of them is installed', async () => {
    const work = tempDir('certified-wiki-page-');
    const context = await createPageContext(work, 'ecdsa');
    try {
      const [both, one] = extractBlocks([`${FENCE}sh needs="bash sh"`, 'touch both', FENCE, `${FENCE}sh needs="bash certified-no-such-tool"`, 'touch one', FENCE].join('\n'));
      assert.deepEqual(await runBlock(both!, context), { kind: 'ran', code: 0, output: '' });
      assert.ok(existsSync(join(work, 'both')));
      assert.deepEqual(await runBlock(one!, context), { kind: 'skipped', reason: 'certified-no-such-tool is not installed' });
      assert.ok(!existsSync(join(work, 'one')));
    } finally {
      cleanUpPage(context);
    }
  });
});
