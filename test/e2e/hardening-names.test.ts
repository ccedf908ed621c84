/**
 * Names that went into certificates as other names, or that should not have gone in at all: IPv6
 * addresses with an IPv4 part, a wildcard CN over a TLD, script and file URIs, broken punycode,
 * CSR keys and IP ranges we cannot sign, and more names than a certificate (or a commit) can hold.
 * OpenSSL and node:net judge the bytes; every refusal is one line, exit 1, nothing written.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { BlockList } from 'node:net';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ROOT_PASSWORD, commitCount, freshCa, git, openssl, run, tempDir } from '../helpers/cli.js';
import { verifyChain } from '../helpers/judge.js';
import { assertRefused } from '../helpers/lifecycle.js';

/** Forms of one address and more, as a user may type them after "+". */
const IP_FORMS = ['::1.2.3.4', '::ffff:10.0.0.1', '64:ff9b::192.0.2.33', '1:2:3:4:5:6:1.2.3.4', '2001:0DB8:0000:0000:0000:0000:0000:00AB', '::', '::1', '1::', 'fe80::1:2'];

/** The iPAddress SANs of a certificate or CSR, as OpenSSL prints them. */
function opensslIps(kind: 'x509' | 'req', file: string): string[] {
  const result = openssl([kind, '-in', file, '-noout', '-text']);
  assert.equal(result.status, 0, result.stderr);
  return [...result.stdout.matchAll(/IP Address:([^,\n]+)/g)].map((match) => match[1]!.trim());
}

/** OpenSSL's IPv6 print (0:0:0:0:0:FFFF:A00:1) and the typed form are one address to node:net. */
function sameAddress(printed: string, typed: string): boolean {
  const family = typed.includes(':') ? 'ipv6' : 'ipv4';
  const list = new BlockList();
  list.addAddress(printed, family);
  return list.check(typed, family);
}

describe('names: what goes into a certificate is what was asked for, or a clear refusal', () => {
  let cwd: string;
  let db: string;
  let work: string;
  const at = () => ({ cwd });
  before(async () => {
    ({ cwd, db } = await freshCa());
    work = tempDir();
  });

  /** A CSR made by OpenSSL with these extra `req` arguments. */
  function opensslCsr(name: string, newkey: string[], subject: string, addext?: string): string {
    const out = join(work, `${name}.csr`);
    const args = ['req', '-new', ...newkey, '-nodes', '-keyout', join(work, `${name}.key`), '-subj', subject, '-out', out];
    if (addext) args.push('-addext', addext);
    const made = openssl(args);
    assert.equal(made.status, 0, made.stderr);
    return out;
  }
  const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];

  it('encodes IPv6 with an IPv4 part, and every other RFC 4291 form, as OpenSSL encodes it', async () => {
    const issued = await run(['CN=::1.2.3.4', ...IP_FORMS.map((form) => `+${form}`)], { cwd });
    assert.equal(issued.code, 0, issued.stderr);
    const ours = opensslIps('x509', join(db, 'certs/0--1.2.3.4.crt'));
    // OpenSSL's own encoder as the reference: a self-signed certificate with the same forms.
    const reference = join(work, 'reference.crt');
    const made = openssl(['req', '-x509', ...P256, '-nodes', '-keyout', join(work, 'reference.key'), '-subj', '/CN=reference', '-days', '1', '-out', reference, '-addext', `subjectAltName=${IP_FORMS.map((form) => `IP:${form}`).join(',')}`]);
    assert.equal(made.status, 0, made.stderr);
    assert.deepEqual(ours, opensslIps('x509', reference), 'the CN ::1.2.3.4 is the first SAN and repeats nothing');
    assert.equal(ours.length, IP_FORMS.length);
    IP_FORMS.forEach((form, index) => assert.ok(sameAddress(ours[index]!, form), `${form} went in as ${ours[index]}`));
    assert.equal(ours[1], '0:0:0:0:0:FFFF:A00:1', '::ffff:10.0.0.1 is not ::ffff:10');
    assert.equal(ours[2], '64:FF9B:0:0:0:0:C000:221', '64:ff9b::192.0.2.33 is not 64:ff9b::192');
  });

  it('refuses IP forms it cannot read as one address, saying why', async () => {
    const cases: Array<[string, RegExp]> = [
      ['+010.0.0.1', /^certified: "010\.0\.0\.1" is not a valid IP address: an IPv4 part has a leading zero, which some programs read as octal\. Write each part in decimal without leading zeros, like 10\.0\.0\.1\.\n$/],
      ['+fe80::1%eth0', /^certified: "fe80::1%eth0" is not a valid IP address: it has a zone id\. /],
      ['+IP:10.0.0.0/8', /^certified: "10\.0\.0\.0\/8" is an IP address range, not an address\. .*\(--permit-ip\)\.\n$/],
      ['+1:2:3:4:5:6:7:1.2.3.4', /is not a valid IP address: it is neither a dotted IPv4 address nor an RFC 4291 IPv6 address/],
    ];
    for (const [arg, message] of cases) await assertRefused(['CN=refused.example.com', arg], at(), 1, message);
  });

  it('converges a manifest entry with IPv4-mapped and embedded IPv4 addresses: apply, then plan has nothing to do', async () => {
    writeFileSync(join(db, 'certificates.yaml'), `certificates:\n  mapped: { cn: mapped.example.com, san: ['::ffff:10.0.0.1', '64:ff9b::192.0.2.33', '0:0:0:0:0:FFFF:A00:1', '::1.2.3.4'] }\n`);
    git(db, ['add', 'certificates.yaml']);
    git(db, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'Edit certificates.yaml']);
    const applied = await run(['apply', '--yes'], { cwd, timeoutMs: 300_000 });
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(opensslIps('x509', join(db, 'certs/mapped.crt')), ['0:0:0:0:0:FFFF:A00:1', '64:FF9B:0:0:0:0:C000:221', '0:0:0:0:0:0:102:304']);
    const plan = await run(['plan'], { cwd, timeoutMs: 300_000 });
    assert.equal(plan.code, 0, `${plan.stdout}${plan.stderr}`);
    assert.equal(plan.stdout, '');
    assert.match(plan.stderr, /Nothing to do: the CA matches certificates\.yaml \(1 certificate/);
  });

  it('checks a CN as it checks a SAN: CN=*.com is refused as +*.com is, on every path', async () => {
    await assertRefused(['CN=*.com'], at(), 1, /^certified: "\*\.com" is a wildcard over a top-level domain\. Use at least two labels after "\*\.", like \*\.example\.com\.\n$/);
    await assertRefused(['CN=web.example.com', '+*.com'], at(), 1, /^certified: "\*\.com" is a wildcard over a top-level domain\./);
    await assertRefused(['--client', 'CN=xn--zz.example.com'], at(), 1, /^certified: "xn--zz\.example\.com" is not a valid DNS name: the label "xn--zz" is not valid punycode\./);
    const csr = opensslCsr('wild-tld', P256, '/CN=*.com');
    await assertRefused(['--csr', csr], at(), 1, /^certified: the CSR is refused: "\*\.com" is a wildcard over a top-level domain\./);
    await assertRefused(['self-signed', 'CN=*.com'], at(), 1, /"\*\.com" is a wildcard over a top-level domain/);
  });

  it('refuses script, data and file URIs and broken punycode; keeps network URIs and URNs', async () => {
    const cases: Array<[string, RegExp]> = [
      ['+URI:javascript:alert(1)', /^certified: "javascript:alert\(1\)" is not a valid URI SAN: the scheme "javascript:" names no host/],
      ['+URI:data:text/html,hi', /^certified: "data:text\/html,hi" is not a valid URI SAN: the scheme "data:" names no host/],
      ['+URI:file:///etc/passwd', /^certified: "file:\/\/\/etc\/passwd" is not a valid URI SAN: the scheme "file:" names a local resource, not a network one\./],
      ['+xn--zz.example.com', /^certified: "xn--zz\.example\.com" is not a valid DNS name: the label "xn--zz" is not valid punycode\./],
    ];
    for (const [arg, message] of cases) await assertRefused(['CN=uri.example.com', arg], at(), 1, message);
    const csr = opensslCsr('script-uri', P256, '/CN=script.example.com', 'subjectAltName=DNS:script.example.com,URI:javascript:alert(1)');
    await assertRefused(['--csr', csr], at(), 1, /^certified: the CSR is refused: "javascript:alert\(1\)" is not a valid URI SAN/);
    const good = await run(['CN=svc.example.com', '+URI:spiffe://example.org/ns/prod/sa/svc', '+URI:urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6', '+xn--bcher-kva.example'], { cwd });
    assert.equal(good.code, 0, good.stderr);
    const text = openssl(['x509', '-in', join(db, 'certs/svc.example.com.crt'), '-noout', '-ext', 'subjectAltName']).stdout;
    assert.match(text, /DNS:svc\.example\.com, URI:spiffe:\/\/example\.org\/ns\/prod\/sa\/svc, URI:urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6, DNS:xn--bcher-kva\.example\n/);
  });

  it('names the key type of an Ed25519, P-521 or secp256k1 CSR and what is supported', async () => {
    const keys: Array<[string, string[], string]> = [
      ['ed25519', ['-newkey', 'ed25519'], 'Ed25519'],
      ['p521', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'], 'ECDSA P-521'],
      ['secp256k1', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1'], 'ECDSA secp256k1'],
    ];
    for (const [name, newkey, shown] of keys) {
      const csr = opensslCsr(name, newkey, `/CN=${name}.example.com`, `subjectAltName=DNS:${name}.example.com`);
      const expected = `certified: the CSR's key is ${shown}, which certified does not sign (supported: RSA of 2048 bits or more, ECDSA P-256 and P-384). Nothing was written. Ask for a CSR with an RSA 2048+ or ECDSA P-256/P-384 key.\n`;
      const refused = await assertRefused(['--csr', csr], at(), 1, /the CSR's key is/);
      assert.equal(refused.stderr, expected);
    }
  });

  it('says that a CSR carries an IP range, not an address (8 or 32 bytes, as in a name constraint)', async () => {
    const ranges: Array<[string, string, RegExp]> = [
      ['range4', 'subjectAltName=DER:300a87080a000000ff000000', /^certified: the CSR is refused: "10\.0\.0\.0\/8" is an IP address range, not an address\. /],
      ['range6', `subjectAltName=DER:30228720${'20010db8'}${'0'.repeat(24)}${'ffffffff'}${'0'.repeat(24)}`, /^certified: the CSR is refused: "2001:db8::\/32" is an IP address range, not an address\. /],
    ];
    for (const [name, addext, message] of ranges) {
      const csr = opensslCsr(name, P256, `/CN=${name}.example.com`, addext);
      assert.match(openssl(['req', '-in', csr, '-noout', '-text']).stdout, /IP Address:<invalid length=(8|32)>/, 'OpenSSL sees no address either');
      const refused = await assertRefused(['--csr', csr], at(), 1, message);
      assert.doesNotMatch(refused.stderr, /zone/i);
    }
  });

  it('refuses more than 1000 names per certificate on every path, before anything is written', async () => {
    const names = Array.from({ length: 1001 }, (_, i) => `n${i}.example.com`);
    const over = /^certified: .*1001 names were asked for one certificate, over the limit of 1000\. Nothing was written\. /;
    await assertRefused(['--client', 'CN=Many Names', ...names.map((name) => `+${name}`)], at(), 1, over);
    const csr = opensslCsr('many', P256, '/CN=Many Names', `subjectAltName=${names.map((name) => `DNS:${name}`).join(',')}`);
    await assertRefused(['--csr', csr, '--name', 'many'], at(), 1, over);
    const commits = commitCount(db);
    writeFileSync(join(db, 'certificates.yaml'), `certificates:\n  many: { cn: many.example.com, san: [${names.join(', ')}] }\n`);
    const plan = await run(['plan'], { cwd });
    assert.equal(plan.code, 1, plan.stderr);
    assert.match(plan.stderr, /^certified: certificates\.yaml:2: 1001 names were asked for one certificate, over the limit of 1000\./);
    assert.equal(commitCount(db), commits);
    git(db, ['checkout', '--', 'certificates.yaml']);
  });

  it('encodes --permit-ip ranges with an IPv4 part, and issues inside them only', async () => {
    const other = tempDir();
    const made = await run(['--ca', 'CN=Mapped CA', '--permit-ip', '::ffff:10.0.0.0/104', '--permit-ip', '64:ff9b::192.0.2.0/120'], { cwd: other, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } });
    assert.equal(made.code, 0, made.stderr);
    const otherDb = join(other, 'etc/ssl');
    const constraints = openssl(['x509', '-in', join(otherDb, 'certs/ca.crt'), '-noout', '-ext', 'nameConstraints']).stdout;
    assert.match(constraints, /IP:0:0:0:0:0:FFFF:A00:0\/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FF00:0\n/);
    assert.match(constraints, /IP:64:FF9B:0:0:0:0:C000:200\/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FF00\n/);
    const inside = await run(['CN=::ffff:10.1.2.3'], { cwd: other });
    assert.equal(inside.code, 0, inside.stderr);
    const verified = verifyChain(otherDb, join(otherDb, 'certs/0--ffff-10.1.2.3.crt'), 'sslserver');
    assert.equal(verified.status, 0, `${verified.stdout}${verified.stderr}`);
    await assertRefused(['CN=::ffff:11.1.2.3'], { cwd: other }, 1, /is outside the name constraints of "Mapped CA Intermediate" \(permitted: ::ffff:a00:0\/104, 64:ff9b::c000:200\/120\)/);
  });
});
