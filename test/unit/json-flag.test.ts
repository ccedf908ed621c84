import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandSpecs } from '../../src/cli/command-table.js';

/**
 * docs/json.md: every command takes --json. A hidden command is run by a program, not a person,
 * and says here why it takes none; a new hidden command has to be added to this list.
 */
const WITHOUT_JSON: Record<string, string> = {
  'merge-crl': 'git runs it as the merge driver of crl/*.crl and reads only its exit code',
};

describe('--json on every command', () => {
  it('is declared by every command the help lists', () => {
    const missing = commandSpecs()
      .filter((spec) => !spec.hidden)
      .filter((spec) => !spec.options.some((option) => option.long === '--json'))
      .map((spec) => spec.name);
    assert.deepEqual(missing, []);
  });

  it('is declared by no hidden command, and each hidden command says why', () => {
    const hidden = commandSpecs().filter((spec) => spec.hidden);
    assert.deepEqual(hidden.map((spec) => spec.name).sort(), Object.keys(WITHOUT_JSON).sort());
    for (const spec of hidden) assert.equal(spec.options.some((option) => option.long === '--json'), false, spec.name);
  });
});
