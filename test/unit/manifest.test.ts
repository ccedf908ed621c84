import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifest } from '../../src/ca/manifest/manifest.js';

test('a manifest with defaults, profiles, a sub-CA and renew_before', async () => {
  const manifest = await parseManifest(`defaults: { days: 200, key: rsa, bits: 3072 }
certificates:
  web:      { cn: Web.Example.com, san: [api.example.com, 10.0.0.5, web.example.com], profile: server }
  alice:    { cn: alice, san: [alice@example.com], profile: client, days: 90, key: ecdsa }
  build-ca: { cn: Build CA, ca: true }
  runner:   { cn: runner, issuer: build-ca }
renew_before: 10d
`);
  assert.equal(manifest.renewBeforeDays, 10);
  const [web, alice, buildCa, runner] = manifest.entries;
  assert.deepEqual(web, {
    name: 'web',
    line: 3,
    cn: 'Web.Example.com',
    sans: [
      { type: 'dns', value: 'web.example.com' },
      { type: 'dns', value: 'api.example.com' },
      { type: 'ip', value: '10.0.0.5' },
    ],
    profile: 'server',
    days: 200,
    key: { type: 'rsa', bits: 3072 },
    issuer: 'ca',
  });
  assert.deepEqual([alice?.profile, alice?.days, alice?.key], ['client', 90, { type: 'ecdsa', curve: 'P-256' }]);
  assert.deepEqual([buildCa?.profile, buildCa?.days, buildCa?.key, buildCa?.line, buildCa?.sans], ['ca', 200, { type: 'rsa', bits: 3072 }, 5, []]);
  assert.deepEqual([runner?.profile, runner?.issuer], ['server+client', 'build-ca']);
});

test('defaults when the manifest gives none', async () => {
  const manifest = await parseManifest('certificates:\n  db: { cn: db.example.com }\n  root: { cn: Root, ca: true }\n');
  assert.equal(manifest.renewBeforeDays, 30);
  assert.deepEqual(manifest.entries.map((e) => [e.days, e.key]), [
    [365, { type: 'ecdsa', curve: 'P-256' }],
    [3650, { type: 'ecdsa', curve: 'P-384' }],
  ]);
});

test('defaults.days holds for a sub-CA too; its own days win; without either a CA gets 3650', async () => {
  const manifest = await parseManifest(`defaults: { days: 400 }
certificates:
  team-ca:  { cn: Team CA, ca: true }
  other-ca: { cn: Other CA, ca: true, days: 1000 }
  web:      { cn: web.example.com }
`);
  assert.deepEqual(manifest.entries.map((e) => [e.name, e.days]), [['team-ca', 400], ['other-ca', 1000], ['web', 400]]);
  const bare = await parseManifest('certificates:\n  team-ca: { cn: team.example.com, ca: true }\n');
  assert.deepEqual(bare.entries.map((e) => [e.days, e.sans]), [[3650, []]]);
});

const refusals: [string, string][] = [
  ['certificates:\n  x: { cn: x, ca: true, san: [x.example.com] }\n', 'certificates.yaml:2: "x" is a CA and cannot have san'],
  ['certificates:\n  web: { cn: web.example.com, san: [ok.example.com, bad..x] }\n', 'certificates.yaml:2: san "bad..x" is not a valid DNS name: labels are letters, digits and inner dashes'],
  ['certificates:\n  web:\n    cn: web.example.com\n    san:\n      - 10.0.0.1\n      - "*.*.example.com"\n', 'certificates.yaml:6: san "*.*.example.com" is not a valid wildcard'],
  ['certificates:\n  web: { cn: "" }\n', 'certificates.yaml:2: cn the common name is missing or empty'],
  ['certificates:\n  web: { san: [a.example.com] }\n', 'certificates.yaml:2: "web" has no cn'],
  ['certificates:\n  ca: { cn: x }\n', 'certificates.yaml:2: "ca" is the name of the CA itself'],
  ['certificates:\n  x: { cn: x, key: dsa }\n', 'certificates.yaml:2: key must be "ecdsa" or "rsa", got "dsa"'],
  ['certificates:\n  x: { cn: x, key: rsa, bits: 1024 }\n', 'certificates.yaml:2: bits must be a multiple of 8 from 2048 to 8192, got "1024"'],
  ['certificates:\n  x: { cn: x, key: ecdsa, bits: 2048 }\n', 'certificates.yaml:2: bits is for RSA keys and cannot go with key ecdsa'],
  ['certificates:\n  x: { cn: x, ca: yes please }\n', 'certificates.yaml:2: ca must be true or false'],
  ['certificates:\n  x: { cn: x, ca: true, profile: server }\n', 'certificates.yaml:2: "x" is a CA and cannot have a profile'],
  ['certificates:\n  x: { cn: x, issuer: y }\n  y: { cn: y }\n', 'certificates.yaml:2: the issuer of "x", "y", is not a CA'],
  ['certificates:\n  x: { cn: x, ca: true, issuer: z }\n', 'certificates.yaml:2: the sub-CA "x" must be issued by "ca"'],
  ['defaults: { days: 0 }\ncertificates: {}\n', 'certificates.yaml:1: defaults.days must be a whole number of days from 1 to 36500, got "0"'],
  ['defaults: { colour: red }\ncertificates: {}\n', 'certificates.yaml:1: unknown key "colour" in defaults'],
  ['certificate:\n  x: { cn: x }\n', 'certificates.yaml:1: unknown key "certificate" in the manifest'],
  ['renew_before: 30d\n', 'certificates.yaml:1: there is no "certificates:" map'],
  ['certificates: [a, b]\n', 'certificates.yaml:1: "certificates" must be a map of name: { cn: ..., san: [...] }'],
  ['', 'certificates.yaml:1: it is empty'],
  ['certificates:\n  x: { cn: x, san: a.example.com }\n', 'certificates.yaml:2: san must be a list, like [a.example.com, 10.0.0.1]'],
  ['certificates:\n  x: {cn: x}\n   y: 1\n', 'certificates.yaml:3: it is not valid YAML: '],
];

test('refusals name the line', async () => {
  for (const [text, message] of refusals) {
    await assert.rejects(parseManifest(text), (error: Error) => {
      assert.ok(error.message.startsWith(message), `${JSON.stringify(text)}\n  got:  ${error.message}\n  want: ${message}`);
      return true;
    });
  }
});
