import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ACME_SERVER_DAYS, acmeServerCertificate, identifierProblem, readAcmePolicy } from '../../src/ca/acme/policy.js';
import { rotateRoot } from '../../src/ca/authorities/rotate-root.js';
import { AcmeProblem, type AcmeIdentifier, type AcmePolicy } from '../../src/ca/acme/types.js';
import { initCa } from '../../src/ca/authorities/init-ca.js';
import { parsePermittedSubtrees } from '../../src/ca/authorities/name-constraints.js';
import { openCaDirectory, type CaStore } from '../../src/ca/ca-directory.js';
import { CertifiedError } from '../../src/ca/errors.js';
import { parseManifest } from '../../src/ca/manifest/manifest.js';
import { FLAGS, renderHint } from '../../src/cli/error-hints.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the acme: section of certificates.yaml', () => {
  it('reads every key, in canonical forms', async () => {
    const manifest = await parseManifest(`acme:
  allow: [.Internal.Example.com, host.example.test, bücher.example, 10.0.0.0/8, "0:0:0:0:0:FFFF:A00:0/104", fd00::/8, 192.168.1.7, "2001:DB8::1"]
  days: 397
  challenges: [dns-01, http-01, dns-01]
  eab: true
certificates:
  web: { cn: web.example.com }
`);
    assert.deepEqual(manifest.acme, {
      allow: ['.internal.example.com', 'host.example.test', 'xn--bcher-kva.example', '10.0.0.0/8', '::ffff:a00:0/104', 'fd00::/8', '192.168.1.7', '2001:db8::1'],
      days: 397,
      challenges: ['dns-01', 'http-01'],
      eab: true,
    });
    assert.deepEqual(manifest.entries.map((entry) => entry.name), ['web']);
  });

  it('has defaults, and makes certificates: optional', async () => {
    const manifest = await parseManifest('acme:\n  allow: [.example.test]\n');
    assert.deepEqual(manifest, { entries: [], renewBeforeDays: 30, acme: { allow: ['.example.test'], days: 30, challenges: ['http-01', 'tls-alpn-01', 'dns-01'], eab: false } });
    assert.equal((await parseManifest('certificates:\n  web: { cn: web.example.com }\n')).acme, undefined);
  });

  const refusals: [string, string][] = [
    ['acme:\n  days: 30\n', 'certificates.yaml:2: acme has no "allow" list of the names and addresses ACME clients may get'],
    ['acme:\n  allow: []\n', 'certificates.yaml:2: acme.allow is empty, so ACME clients could get nothing'],
    ['acme:\n  allow: .example.test\n', 'certificates.yaml:2: acme.allow must be a list, like [a.example.com, 10.0.0.1]'],
    ['acme:\n  allow:\n    - .example.test\n    - "*.example.test"\n', 'certificates.yaml:4: acme.allow "*.example.test" cannot be a wildcard'],
    ['acme:\n  allow: [.example.test, a..b]\n', 'certificates.yaml:2: acme.allow "a..b" is not a valid DNS name: labels are letters, digits and inner dashes'],
    ['acme:\n  allow: [.]\n', 'certificates.yaml:2: acme.allow "." names no domain'],
    ['acme:\n  allow: [10.0.0.1/8]\n', 'certificates.yaml:2: acme.allow "10.0.0.1/8" has bits set after the /8 prefix'],
    ['acme:\n  allow: [10.0.0.0/33]\n', 'certificates.yaml:2: acme.allow "10.0.0.0/33" is not an address range: the prefix must be a number from 0 to 32'],
    ['acme:\n  allow: [010.0.0.0/8]\n', 'certificates.yaml:2: acme.allow "010.0.0.0" is not a valid IP address: an IPv4 part has a leading zero, which some programs read as octal'],
    ['acme:\n  allow: ["fe80::1%eth0"]\n', 'certificates.yaml:2: acme.allow "fe80::1%eth0" is not a valid IP address: it has a zone id'],
    ['acme:\n  allow: [.example.test]\n  days: 0\n', 'certificates.yaml:3: acme.days must be a whole number of days from 1 to 397, got "0"'],
    ['acme:\n  allow: [.example.test]\n  days: 398\n', 'certificates.yaml:3: acme.days must be a whole number of days from 1 to 397, got "398"'],
    ['acme:\n  allow: [.example.test]\n  days: 30d\n', 'certificates.yaml:3: acme.days must be a whole number of days from 1 to 397, got "30d"'],
    ['acme:\n  allow: [.example.test]\n  challenges: [http-01, tls-sni-01]\n', 'certificates.yaml:3: unknown challenge "tls-sni-01" in acme.challenges'],
    ['acme:\n  allow: [.example.test]\n  challenges: []\n', 'certificates.yaml:3: acme.challenges is empty, so no client could prove a name'],
    ['acme:\n  allow: [.example.test]\n  eab: yes please\n', 'certificates.yaml:3: acme.eab must be true or false'],
    ['acme:\n  allow: [.example.test]\n  contact: ops@example.test\n', 'certificates.yaml:3: unknown key "contact" in acme'],
    ['acme: [.example.test]\n', 'certificates.yaml:1: acme must be a map (key: value)'],
    ['acme:\n', 'certificates.yaml:1: acme must be a map (key: value)'],
    ['acme:\n  allow: [.example.test]\ncertificates:\n  acme-server: { cn: acme.example.test }\n', 'certificates.yaml:4: "acme-server" starts with "acme-", which names the certificates of the ACME server'],
  ];

  it('refusals name the line', async () => {
    for (const [text, message] of refusals) {
      await assert.rejects(parseManifest(text), (error: CertifiedError) => {
        assert.equal(error.code, 'BAD_MANIFEST', text);
        assert.equal(error.renderMessage(FLAGS), message, text);
        return true;
      });
    }
  });
});

describe('the ACME policy of a CA', () => {
  let store: CaStore;
  let db: string;
  const ask = async () => undefined;
  const git = (...args: string[]) => execFileSync('git', ['-C', db, ...args], { encoding: 'utf8' }).trim();
  const commits = () => Number(git('rev-list', '--count', 'HEAD'));

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'certified-acme-policy-'));
    dirs.push(dir);
    db = join(dir, 'etc/ssl');
    store = openCaDirectory(db, { lockTimeoutMs: 10_000 });
    await initCa(store, {
      subject: { CN: 'ACME Unit CA' },
      key: { type: 'ecdsa', curve: 'P-256' },
      days: 400,
      nameConstraints: parsePermittedSubtrees({ permitDns: ['example.test', '.other.test'], permitIp: ['10.0.0.0/8', 'fd00::/8', '192.0.2.0/24'] }),
      rootPassword: 'root password',
      commandLine: 'certified init CN="ACME Unit CA"',
    });
  });

  it('refuses to serve without a committed acme: section, saying how to add one', async () => {
    const commit = (text: string) => {
      writeFileSync(join(db, 'certificates.yaml'), text);
      git('add', 'certificates.yaml');
      git('-c', 'user.name=t', '-c', 'user.email=t@example.test', 'commit', '-q', '-m', 'policy');
    };
    const refusal = async (message: string) =>
      assert.rejects(readAcmePolicy(store), (error: CertifiedError) => {
        assert.equal(error.code, 'NO_ACME_POLICY');
        assert.equal(error.renderMessage(FLAGS), message);
        assert.equal(renderHint(error), 'Add one that says which names ACME clients may get, like "acme: { allow: [.internal.example.com, 10.0.0.0/8] }", commit it, and start the server again.');
        return true;
      });
    await refusal(`serve --acme-listen needs an acme: section in certificates.yaml (there is no certificates.yaml in "${db}")`);
    // A policy is reviewed: one only in the working tree is not used.
    writeFileSync(join(db, 'certificates.yaml'), 'acme:\n  allow: [.example.test]\n');
    await refusal('serve --acme-listen needs an acme: section in certificates.yaml (certificates.yaml is not committed yet)');
    commit('certificates:\n  web: { cn: web.example.test }\n');
    await refusal('serve --acme-listen needs an acme: section in certificates.yaml (the committed certificates.yaml has none)');
    writeFileSync(join(db, 'certificates.yaml'), 'acme:\n  allow: [.example.test]\n');
    await refusal('serve --acme-listen needs an acme: section in certificates.yaml (the committed certificates.yaml has none)');
    commit('acme:\n  allow: [.example.test, 10.0.0.0/8]\n  days: 0\n');
    await assert.rejects(readAcmePolicy(store), /certificates\.yaml:3: acme\.days must be a whole number of days from 1 to 397, got "0"/);
    commit('acme:\n  allow: [.example.test, 10.0.0.0/8]\n  challenges: [dns-01]\n');
    writeFileSync(join(db, 'certificates.yaml'), 'acme:\n  allow: [.everything.test]\n');
    assert.deepEqual(await readAcmePolicy(store), { allow: ['.example.test', '10.0.0.0/8'], days: 30, challenges: ['dns-01'], eab: false });
    git('rm', '-q', '-f', 'certificates.yaml');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.test', 'commit', '-q', '-m', 'no policy');
  });

  const policy: AcmePolicy = {
    allow: ['.example.test', 'exact.other.test', 'wide.test', '.below.other.test', '10.0.0.0/16', '10.9.9.9', '11.0.0.0/8', 'fd00::/16', '::ffff:a00:0/104', '192.0.2.0/24'],
    days: 30,
    challenges: ['http-01', 'tls-alpn-01', 'dns-01'],
    eab: false,
  };
  const ok = undefined;
  // identifier, the detail of the rejectedIdentifier problem (undefined: allowed)
  const cases: [AcmeIdentifier, string | undefined][] = [
    [{ type: 'dns', value: 'host.example.test' }, ok],
    [{ type: 'dns', value: 'a.b.example.test' }, ok],
    [{ type: 'dns', value: 'xn--bcher-kva.example.test' }, ok],
    [{ type: 'dns', value: 'exact.other.test' }, ok],
    [{ type: 'dns', value: 'x.below.other.test' }, ok],
    [{ type: 'dns', value: '*.example.test' }, ok],
    [{ type: 'dns', value: '*.a.example.test' }, ok],
    [{ type: 'dns', value: '*.below.other.test' }, ok],
    [{ type: 'ip', value: '10.0.255.1' }, ok],
    [{ type: 'ip', value: '10.9.9.9' }, ok],
    [{ type: 'ip', value: 'fd00::1' }, ok],
    [{ type: 'dns', value: 'example.test' }, '"example.test" is not allowed by the ACME policy of this CA'],
    [{ type: 'dns', value: 'badexample.test' }, /^"badexample\.test" is not allowed by the ACME policy/.source],
    [{ type: 'dns', value: 'a.exact.other.test' }, /^"a\.exact\.other\.test" is not allowed/.source],
    [{ type: 'dns', value: '*.exact.other.test' }, /^"\*\.exact\.other\.test" is not allowed/.source],
    [{ type: 'dns', value: 'below.other.test' }, /^"below\.other\.test" is not allowed/.source],
    [{ type: 'dns', value: '*.other.test' }, /^"\*\.other\.test" is not allowed/.source],
    [{ type: 'dns', value: 'wide.test' }, '"DNS:wide.test" is outside the name constraints of "ACME Unit CA Intermediate" (permitted: example.test, .other.test)'],
    [{ type: 'dns', value: 'Host.example.test' }, 'the DNS name "Host.example.test" is not in lower case'],
    [{ type: 'dns', value: 'bücher.example.test' }, 'the DNS name "bücher.example.test" is not in ASCII: ask for "xn--bcher-kva.example.test"'],
    [{ type: 'dns', value: 'xn--zz.example.test' }, '"xn--zz.example.test" is not a valid DNS name: the label "xn--zz" is not valid punycode'],
    [{ type: 'dns', value: 'a..example.test' }, '"a..example.test" is not a valid DNS name: labels are letters, digits and inner dashes'],
    [{ type: 'dns', value: 'host.example.test.' }, '"host.example.test." is not a valid DNS name: labels are letters, digits and inner dashes'],
    [{ type: 'dns', value: 'a_b.example.test' }, '"a_b.example.test" is not a valid DNS name: labels are letters, digits and inner dashes'],
    [{ type: 'dns', value: '*.*.example.test' }, '"*.*.example.test" is not a valid wildcard'],
    [{ type: 'dns', value: 'a*.example.test' }, '"a*.example.test" is not a valid wildcard'],
    [{ type: 'dns', value: '*.test' }, '"*.test" is a wildcard over a top-level domain'],
    [{ type: 'dns', value: '10.0.0.1' }, '"10.0.0.1" is neither a DNS name nor an IP address'],
    [{ type: 'dns', value: 'host\n.example.test' }, '"host?.example.test" is not a valid DNS name: it contains spaces or control characters'],
    [{ type: 'dns', value: `${'a'.repeat(250)}.example.test` }, /^the identifier "a{57}\.\.\." is over 255 characters$/.source],
    [{ type: 'dns', value: '' }, 'the identifier has no value'],
    [{ type: 'ip', value: '10.0.0.010' }, '"10.0.0.010" is not a valid IP address: an IPv4 part has a leading zero, which some programs read as octal'],
    [{ type: 'ip', value: 'FD00::1' }, 'the IP address "FD00::1" is not in its canonical form: ask for "fd00::1"'],
    [{ type: 'ip', value: 'fd00:0::1' }, 'the IP address "fd00:0::1" is not in its canonical form: ask for "fd00::1"'],
    [{ type: 'ip', value: '::ffff:10.0.0.1' }, 'the IP address "::ffff:10.0.0.1" is not in its canonical form: ask for "::ffff:a00:1"'],
    [{ type: 'ip', value: '10.0.0.0/8' }, '"10.0.0.0/8" is an IP address range, not an address'],
    [{ type: 'ip', value: 'fe80::1%eth0' }, '"fe80::1%eth0" is not a valid IP address: it has a zone id'],
    [{ type: 'ip', value: 'host.example.test' }, '"host.example.test" is not a valid IP address: it is neither a dotted IPv4 address nor an RFC 4291 IPv6 address'],
    [{ type: 'ip', value: '10.1.0.1' }, /^"10\.1\.0\.1" is not allowed by the ACME policy/.source],
    [{ type: 'ip', value: 'fd01::1' }, /^"fd01::1" is not allowed by the ACME policy/.source],
    [{ type: 'ip', value: '11.0.0.1' }, '"IP Address:11.0.0.1" is outside the name constraints of "ACME Unit CA Intermediate" (permitted: 10.0.0.0/8, fd00::/8, 192.0.2.0/24)'],
    // Allowed, but an IPv4-mapped address is an IPv6 one to name constraints (and to OpenSSL): not under 10.0.0.0/8.
    [{ type: 'ip', value: '::ffff:a00:1' }, '"IP Address:::ffff:a00:1" is outside the name constraints of "ACME Unit CA Intermediate" (permitted: 10.0.0.0/8, fd00::/8, 192.0.2.0/24)'],
    [{ type: 'email', value: 'a@example.test' } as unknown as AcmeIdentifier, 'the identifier type "email" is not one this CA issues for (dns, ip)'],
    [{ type: 'dns', value: 42 } as unknown as AcmeIdentifier, 'the identifier has no value'],
  ];

  it('checks identifiers against the allow list, the name rules and the name constraints', async () => {
    for (const [identifier, expected] of cases) {
      const problem = await identifierProblem(store, policy, identifier);
      const what = JSON.stringify(identifier);
      if (expected === undefined) {
        assert.equal(problem, undefined, `${what}: ${problem?.message}`);
        continue;
      }
      assert.ok(problem instanceof AcmeProblem, what);
      assert.equal(problem.type, 'rejectedIdentifier', what);
      assert.equal(problem.status, 400, what);
      const bounded = typeof identifier.value === 'string' && identifier.value !== '' && identifier.value.length <= 255;
      assert.deepEqual(problem.subproblems, bounded ? [{ type: 'rejectedIdentifier', detail: problem.message, identifier }] : undefined, what);
      if (expected.startsWith('^')) assert.match(problem.message, new RegExp(expected), what);
      else assert.equal(problem.message, expected, what);
    }
  });

  it('issues the HTTPS certificate of the ACME server once, and reuses it while it is fresh', async () => {
    const before = commits();
    const now = new Date();
    const first = await acmeServerCertificate(store, { name: 'acme.example.test', askPassword: ask, now, commandLine: 'certified serve --acme-listen acme.example.test:14000' });
    assert.equal(first.issued, true);
    assert.equal(commits(), before + 1);
    assert.match(git('log', '-1', '--format=%s'), /^Issue acme-server \(server, ECDSA P-256, expires /);
    const [leaf, intermediate, more] = first.chainPem.split(/(?<=-----END CERTIFICATE-----\n)/).map((pem) => new X509Certificate(pem));
    assert.ok(leaf && intermediate && !more);
    assert.equal(leaf.subjectAltName, 'DNS:acme.example.test');
    assert.ok(leaf.verify(intermediate.publicKey));
    assert.equal(intermediate.subject, readCert(db, 'ca').subject);
    assert.equal(Math.round((Date.parse(leaf.validTo) - now.getTime()) / 86_400_000), ACME_SERVER_DAYS);
    assert.equal(first.notAfter.getTime(), Date.parse(leaf.validTo));
    assert.equal(first.notBefore.getTime(), Date.parse(leaf.validFrom));
    assert.ok(leaf.checkPrivateKey(createPrivateKey(first.keyPem)));
    assert.equal(readFileSync(join(db, 'private/acme-server.key'), 'utf8'), first.keyPem);
    assert.equal(git('ls-files', 'private/acme-server.key'), '', 'the unencrypted key is not committed');
    assert.equal(git('check-ignore', 'private/acme-server.key'), 'private/acme-server.key');

    const later = new Date(now.getTime() + 50 * 86_400_000);
    const again = await acmeServerCertificate(store, { name: 'acme.example.test', askPassword: ask, now: later, commandLine: 'certified serve' });
    assert.deepEqual(again, { ...first, issued: false });
    assert.equal(commits(), before + 1);
  });

  it('renews it, superseding the old one, when a third of its life is left, its name changed or its key is gone', async () => {
    const start = readCert(db, 'acme-server');
    const steps: [name: string, days: number, san: string, removeKey?: boolean][] = [
      ['acme.example.test', 61, 'DNS:acme.example.test'],
      ['10.0.0.53', 62, 'IP Address:10.0.0.53'],
      ['10.0.0.53', 63, 'IP Address:10.0.0.53', true],
    ];
    let previous = start;
    for (const [name, days, san, removeKey] of steps) {
      if (removeKey) rmSync(join(db, 'private/acme-server.key'));
      const before = commits();
      const now = new Date(Date.now() + days * 86_400_000);
      const renewed = await acmeServerCertificate(store, { name, askPassword: ask, now, commandLine: 'certified serve' });
      assert.equal(renewed.issued, true, name);
      assert.equal(commits(), before + 1);
      assert.match(git('log', '-1', '--format=%s'), new RegExp(`^Renew acme-server \\(serial ${previous.serialNumber.toLowerCase()} -> `));
      const current = readCert(db, 'acme-server');
      assert.equal(current.subjectAltName, san);
      assert.notEqual(current.serialNumber, previous.serialNumber);
      assert.ok(current.checkPrivateKey(createPrivateKey(renewed.keyPem)));
      const oldRecord = JSON.parse(readFileSync(join(db, `records/ca/${previous.serialNumber.toLowerCase()}.json`), 'utf8')) as { status: string; revocation?: { reason: string } };
      assert.deepEqual([oldRecord.status, oldRecord.revocation?.reason], ['revoked', 'superseded']);
      previous = current;
    }
    assert.equal(existsSync(join(db, 'certs/acme-server.chain.crt')), true);
  });

  it('refuses a server name that is neither a host name nor an address, writing nothing', async () => {
    const before = commits();
    for (const name of ['*.example.test', 'URI:https://x.example.test/', 'a@example.test', 'bad..name']) {
      await assert.rejects(acmeServerCertificate(store, { name, askPassword: ask, now: new Date(), commandLine: 'certified serve' }), /the ACME server's name ".*" is not a host name or an IP address/);
    }
    await assert.rejects(
      acmeServerCertificate(store, { name: 'outside.example.com', askPassword: ask, now: new Date(Date.now() + 300 * 86_400_000), commandLine: 'certified serve' }),
      /"DNS:outside\.example\.com" is outside the name constraints/,
    );
    assert.equal(commits(), before);
  });

  it('issues it again after a root rotation, so that its chain leads to the new root', async () => {
    const rootAsk = async (request: { role: string }) => (request.role === 'root' ? 'root password' : undefined);
    await rotateRoot(store, { subject: {}, days: 400, askPassword: rootAsk, newRootPassword: 'new root password', commandLine: 'certified rotate-root' });
    const before = commits();
    const now = new Date(Date.now() + 64 * 86_400_000);
    const after = await acmeServerCertificate(store, { name: '10.0.0.53', askPassword: ask, now, commandLine: 'certified serve' });
    assert.equal(after.issued, true, 'a certificate whose chain ends at the old root is not reused');
    assert.equal(commits(), before + 1);
    assert.equal(after.chainPem, readFileSync(join(db, 'certs/acme-server.crt'), 'utf8') + readFileSync(join(db, 'certs/ca.chain.crt'), 'utf8'));
    assert.equal(after.chainPem.split('-----BEGIN CERTIFICATE-----').length - 1, 3, 'leaf, intermediate, cross-certificate');
  });
});

function readCert(db: string, name: string): X509Certificate {
  return new X509Certificate(readFileSync(join(db, `certs/${name}.crt`)));
}
