import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { READ_LIMITS, ReadTooLargeError } from '../../src/store/bounded-read.js';
import { CaReader } from '../../src/store/reader.js';

test('readTexts reads many files through one buffer: each whole, the missing undefined, the too large refused', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'certified-reader-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'records/ca'), { recursive: true });
  const full = 'x'.repeat(READ_LIMITS.record);
  writeFileSync(join(dir, 'records/ca/full.json'), full);
  writeFileSync(join(dir, 'records/ca/small.json'), '{"a":1}\n');
  writeFileSync(join(dir, 'records/ca/over.json'), `${full}y`);
  writeFileSync(join(dir, 'certificates.yaml'), 'z'.repeat(READ_LIMITS.record * 2));
  const reader = new CaReader(dir);
  assert.deepEqual(reader.readTexts(['records/ca/full.json', 'records/ca/small.json', 'records/ca/none.json', 'certificates.yaml', 'records/ca/small.json']), [
    full,
    '{"a":1}\n',
    undefined,
    'z'.repeat(READ_LIMITS.record * 2),
    '{"a":1}\n',
  ]);
  assert.throws(
    () => reader.readTexts(['records/ca/small.json', 'records/ca/over.json']),
    (error: Error) => error instanceof ReadTooLargeError && error.path === 'records/ca/over.json' && error.limit === READ_LIMITS.record,
  );
});
