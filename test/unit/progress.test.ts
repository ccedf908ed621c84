import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressLine, duration } from '../../src/cli/progress.js';
import { liveLineShown } from '../../src/cli/output.js';

const CLEAR = '\r\x1b[2K';

/** A ProgressLine drawing into `written`, on a clock the test moves, `columns` wide. */
function line(columns?: number): { progress: ProgressLine; written: string[]; clock: { now: number } } {
  const written: string[] = [];
  const clock = { now: 1_000_000 };
  const progress = new ProgressLine((text) => written.push(text), () => columns, () => clock.now);
  return { progress, written, clock };
}

describe('ProgressLine', () => {
  it('draws at most every 100 ms, always the last count of a step, and shows rate and time left after a second', () => {
    const { progress, written, clock } = line();
    progress.count('Issuing', 0, 1000, 'certificates');
    progress.count('Issuing', 10, 1000, 'certificates'); // too soon: not drawn now
    clock.now += 100;
    progress.count('Issuing', 20, 1000, 'certificates');
    clock.now += 900;
    progress.count('Issuing', 200, 1000, 'certificates');
    clock.now += 10;
    progress.count('Issuing', 1000, 1000, 'certificates'); // the end of the step: drawn at once
    progress.end();
    assert.deepEqual(written, [
      `${CLEAR}Issuing 0/1000 certificates`,
      `${CLEAR}Issuing 20/1000 certificates`,
      `${CLEAR}Issuing 200/1000 certificates, 200/s, 4 s left`,
      `${CLEAR}Issuing 1000/1000 certificates, 990/s`,
      CLEAR,
    ]);
  });

  it('measures each step from its own start', () => {
    const { progress, written, clock } = line();
    progress.count('Reading', 0, 10, 'certificates');
    clock.now += 5000;
    progress.count('Reading', 10, 10, 'certificates');
    progress.count('Verifying', 0, 10, 'certificates'); // too soon after the last drawing
    clock.now += 2000;
    progress.count('Verifying', 4, 10, 'certificates');
    assert.deepEqual(written.slice(1), [`${CLEAR}Reading 10/10 certificates, 2.0/s`, `${CLEAR}Verifying 4/10 certificates, 2.0/s, 3 s left`]);
    progress.end();
  });

  it('is erased before other output and drawn again on its next update; a prompt pauses it', () => {
    const { progress, written, clock } = line();
    progress.count('Re-signing', 0, 3, 'CRLs');
    progress.erase();
    progress.erase(); // nothing drawn: nothing to erase
    clock.now += 200;
    progress.pause();
    progress.count('Re-signing', 1, 3, 'CRLs');
    assert.deepEqual(written, [`${CLEAR}Re-signing 0/3 CRLs`, CLEAR]);
    progress.resume();
    progress.end();
    progress.count('Re-signing', 3, 3, 'CRLs'); // after the end: nothing
    assert.deepEqual(written, [`${CLEAR}Re-signing 0/3 CRLs`, CLEAR, `${CLEAR}Re-signing 1/3 CRLs`, CLEAR]);
  });

  it('fits the terminal (a wrapped line could not be redrawn) and ignores empty steps', () => {
    const { progress, written } = line(20);
    progress.count('Updating', 0, 0, 'trust stores');
    progress.text('Committing 1000 changes...');
    progress.end();
    assert.deepEqual(written, [`${CLEAR}Committing 1000 cha`, CLEAR]);
  });

  it('writes times left as people read them', () => {
    assert.equal(duration(4), '4 s');
    assert.equal(duration(125), '2 min 5 s');
    assert.equal(duration(4320), '1 h 12 min');
  });
});

describe('liveLineShown', () => {
  it('only on a terminal, not with --quiet, TERM=dumb or CI set to anything but "", "0" or "false"', () => {
    assert.equal(liveLineShown(undefined, {}, true), true);
    assert.equal(liveLineShown(undefined, {}, false), false);
    assert.equal(liveLineShown(true, {}, true), false);
    assert.equal(liveLineShown(undefined, { TERM: 'dumb' }, true), false);
    for (const CI of ['', '0', 'false', 'FALSE']) assert.equal(liveLineShown(undefined, { CI }, true), true, `CI=${CI}`);
    for (const CI of ['1', 'true', 'yes', 'github']) assert.equal(liveLineShown(undefined, { CI }, true), false, `CI=${CI}`);
  });
});
