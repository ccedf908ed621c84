/** Outside input in commit messages: no control, line-breaking or bidirectional character survives anywhere in the message. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commitMessage } from '../../src/ca/commit-message.js';

const HOSTILE = ['\u001b', '\r\n', '\t', '\u0000', '\u007f', '\u009b', '\u0085', '\u202e', '\u202a', '\u2066', '\u2069', '\u200f', '\u061c', '\u2028', '\u2029'];

describe('commitMessage and control characters', () => {
  it('turns C0, C1, line separators and bidi controls into spaces in the summary, command, every detail line and every trailer', () => {
    for (const bad of HOSTILE) {
      const message = commitMessage({
        summary: `Register ${bad}account`,
        commandLine: `certified serve ${bad}`,
        details: [`Contact: mailto:a${bad}b@example.test`, `Account:   x${bad}`, `SANs:    web.example.test${bad}`],
        trailers: { 'Certified-Acme-Account': `id${bad}` },
      });
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(message, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/, JSON.stringify(bad));
      const lines = message.split('\n');
      assert.ok(lines.includes('Contact: mailto:a b@example.test'), JSON.stringify(lines));
      assert.ok(lines.includes('Account:   x'), 'alignment kept, trailing space dropped');
      assert.ok(lines.includes('Certified-Acme-Account: id'));
      assert.equal(lines[0], 'Register  account');
      assert.equal(lines[2], '$ certified serve');
    }
  });

  it('leaves printable text, letters of any script included, as it is', () => {
    const message = commitMessage({ summary: 'Issue bücher', commandLine: 'certified +name bücher.example', details: ['Subject: CN=Ünïcode, O=例え'], trailers: { 'Certified-Name': 'bücher' } });
    assert.equal(message, 'Issue bücher\n\n$ certified +name bücher.example\n\nSubject: CN=Ünïcode, O=例え\n\nCertified-Name: bücher\n');
  });
});
