import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NonceStore } from '../../src/serve/acme/http.js';
import { PerMinute, ValidationSlots } from '../../src/serve/acme/limits.js';

describe('serve/acme limits', () => {
  it('nonces: a flood forgets none, each is accepted once, and not after its window', () => {
    const flooded = new NonceStore();
    const first = flooded.next();
    for (let index = 0; index < 20_000; index += 1) flooded.next();
    assert.equal(flooded.consume(first), true, 'still accepted after 20,000 others were handed out');
    assert.equal(flooded.consume(first), false, 'a replay');
    let now = 1_000_000;
    const nonces = new NonceStore(600_000, () => now);
    const late = nonces.next();
    now += 600_000;
    assert.equal(nonces.consume(late), false, 'expired');
    const forged = nonces.next().replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    assert.equal(nonces.consume(forged), false, 'a changed time or random part fails its MAC');
    assert.equal(new NonceStore().consume(nonces.next()), false, "another server's nonce");
  });

  it('new accounts: so many a minute per address, then the seconds to wait', () => {
    let now = 0;
    const limit = new PerMinute(2, 10_000, () => now);
    limit.record('a');
    now = 10_000;
    limit.record('a');
    assert.equal(limit.waitSeconds('b'), 0);
    assert.equal(limit.waitSeconds('a'), 50);
    now = 60_001;
    assert.equal(limit.waitSeconds('a'), 0);
  });

  it('validations wait for a slot, in all and per account, and are never refused', async () => {
    const slots = new ValidationSlots(2, 1);
    const running = new Set<string>();
    const seen: string[][] = [];
    const gates = new Map<string, () => void>();
    const task = (name: string, account: string) =>
      slots.run(account, async () => {
        running.add(name);
        seen.push([...running].sort());
        await new Promise<void>((resolve) => gates.set(name, resolve));
        running.delete(name);
        return name;
      });
    const all = [task('a1', 'a'), task('a2', 'a'), task('b1', 'b'), task('c1', 'c')];
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual([...running].sort(), ['a1', 'b1'], 'one per account, two in all');
    gates.get('a1')!();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual([...running].sort(), ['a2', 'b1'], "a's second starts when its first ends, before c");
    gates.get('b1')!();
    await new Promise((resolve) => setImmediate(resolve));
    gates.get('a2')!();
    await new Promise((resolve) => setImmediate(resolve));
    gates.get('c1')!();
    assert.deepEqual(await Promise.all(all), ['a1', 'a2', 'b1', 'c1']);
    assert.ok(seen.every((names) => names.length <= 2));
  });
});
