import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as yaml from 'yaml';
import { readCommonShape, toTree, type TreeNode } from '../../src/ca/manifest/manifest-tree.js';
import { checkManifest, parseManifest } from '../../src/ca/manifest/manifest.js';

/** The tree through the yaml package alone, as parseManifest reads anything not of the common shape. */
function yamlTree(text: string): TreeNode | undefined {
  const lineCounter = new yaml.LineCounter();
  const doc = yaml.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  assert.deepEqual(doc.errors, [], `${JSON.stringify(text)} is valid YAML`);
  return toTree(yaml, doc.contents, (offset) => lineCounter.linePos(offset).line);
}

/** The outcome of checking a tree: the manifest, or the error's message and hint. */
function outcome(tree: TreeNode): unknown {
  try {
    return checkManifest(tree);
  } catch (error) {
    return { message: (error as Error).message, hint: (error as { hint?: unknown }).hint };
  }
}

/** Read in one pass: each must give the tree (so the manifest, or the error and its line) YAML gives. */
const common = [
  `defaults: { days: 200, key: rsa, bits: 3072 }
certificates:
  web:      { cn: Web.Example.com, san: [api.example.com, 10.0.0.5, web.example.com], profile: server }
  alice:    { cn: alice, san: [alice@example.com], profile: client, days: 90, key: ecdsa }
  build-ca: { cn: Build CA, ca: true }
  runner:   { cn: runner, issuer: build-ca }
renew_before: 10d
`,
  '# the CA\ncertificates:\n\n  # the web\n  web:\n    cn: "web.example.com"\n    san:\n      - 10.0.0.1\n      - \'a.example.com\'\n    days: 30\n  db: {cn: db, san: []}\n',
  'certificates:\n  web:\n    cn: web\n    san:\n    - a.example.com\n    - b.example.com\n    profile: both\n',
  'certificates: {}\n',
  '# the CA\ncertificates: # every certificate\n  web: { cn: web.example.com, san: [a.example.com] } # the web\n  # the database\n  db:  # below\n    cn: db.example.com   # a comment\n    san: # none\n      - b.example.com #b\n',
  'defaults: { days: 365, key: ecdsa }\nrenew_before: 30d\ncertificates:\n  host-1: { cn: host-1.example.com, san: [alt-1.example.com, 10.0.0.1], profile: server }\n',
  'certificates:\n  x: { cn: x, ca: true, san: [x.example.com] }\n',
  'certificates:\n  web: { cn: web.example.com, san: [ok.example.com, bad..x] }\n',
  'certificates:\n  web: { cn: "" }\n',
  'certificates:\n  web: { san: [a.example.com] }\n',
  'certificates:\n  ca: { cn: x }\n',
  'certificates:\n  x: { cn: x, key: dsa }\n',
  'certificates:\n  x: { cn: x, key: rsa, bits: 1024 }\n',
  'certificates:\n  x: { cn: x, ca: yes please }\n',
  'certificates:\n  x: { cn: x, ca: true, profile: server }\n',
  'certificates:\n  x: { cn: x, issuer: y }\n  y: { cn: y }\n',
  'defaults: { days: 0 }\ncertificates: {}\n',
  'defaults: { colour: red }\ncertificates: {}\n',
  'certificate:\n  x: { cn: x }\n',
  'renew_before: 30d\n',
  'certificates: [a, b]\n',
  'certificates:\n  x: { cn: x, san: a.example.com }\n',
  'certificates:\n  x: { cn: [x] }\n',
  'certificates:\n  x: web.example.com\n',
  'certificates:\n  x: { cn: x, san: [[a]] }\n',
  'certificates:\n  x: { cn: 12345, days: 0123 }\n',
  'certificates:\n  x: { cn: x, ca: false, profile: nope }\n',
  'certificates:\n  x: { cn: x }\nacme: { allow: [.internal.example.com, 10.0.0.0/8], days: 30, challenges: [http-01], eab: true }\n',
  'acme:\n  allow:\n    - .example.com\n  eab: maybe\n',
];

test('the common shape reads as YAML does: same tree, same manifest, same errors with the same lines', () => {
  for (const text of common) {
    const fast = readCommonShape(text);
    assert.ok(fast, `read in one pass: ${JSON.stringify(text)}`);
    const slow = yamlTree(text);
    assert.deepEqual(fast, slow, JSON.stringify(text));
    assert.deepEqual(outcome(fast), outcome(slow!), JSON.stringify(text));
  }
});

/** Left to the yaml package: what YAML resolves otherwise, or reports, or what the reader does not know. */
const uncommon = [
  '',
  '# nothing\n',
  'certificates:\n  x: {cn: x}\n   y: 1\n',
  'certificates:\n  x: { cn: x }\n  x: { cn: y }\n',
  'certificates:\n  x: { cn: x, cn: y }\n',
  'certificates:\n  x: { cn: "x" } # web\n',
  'certificates:\n  x: { cn: x#y }\n',
  'certificates:\n  x: { cn: 1.5 }\n',
  'certificates:\n  x: { cn: null }\n',
  'certificates:\n  x: { cn: x, ca: True }\n',
  'certificates:\n  x: { cn: 0x1f }\n',
  'certificates:\n  x: { cn: "a\\tb" }\n',
  "certificates:\n  x: { cn: 'it''s' }\n",
  'certificates:\n  x: { cn: *.example.com }\n',
  'certificates:\n  x: { cn: a: b }\n',
  'certificates:\n  x:\n  y: { cn: y }\n',
  'certificates:\n  x: { cn: x,\n    san: [a] }\n',
  'certificates:\n  x: { cn: x, }\n',
  'certificates:\n  x:\n    cn: |\n      x\n',
  'certificates:\n\tx: { cn: x }\n',
  'certificates:\r\n  x: { cn: x }\r\n',
  '---\ncertificates:\n  x: { cn: x }\n',
  'certificates:\n  x: { cn: a  b }\n',
  'certificates:\n  x: { cn: x, san: [a, b]] }\n',
  'certificates:\n  x: { cn: x }\n    extra\n',
  'certificates:\n  x:\n    san:\n      - a: b\n',
];

test('anything else is left to the yaml package', () => {
  for (const text of uncommon) assert.equal(readCommonShape(text), undefined, JSON.stringify(text));
});

test('a duplicate name is refused on its line, as YAML reports it', async () => {
  await assert.rejects(parseManifest('certificates:\n  x: { cn: x }\n  y: { cn: y }\n  x: { cn: z }\n'), (error: Error) => {
    assert.equal(error.message, 'certificates.yaml:4: it is not valid YAML: Map keys must be unique');
    return true;
  });
});
