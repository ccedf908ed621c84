import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createCertificate } from '../../src/pki/certificate.js';
import { generateKeyPair, importPrivateKey } from '../../src/pki/keys.js';
import { randomSerial } from '../../src/pki/serial.js';
import type { SubjectAltName } from '../../src/pki/types.js';
import { commitCount, git, makeCa, openssl, run, snapshot, tempDir, tool } from '../helpers/cli.js';

const PERMIT = ['--permit-dns', '.internal.example.com', '--permit-ip', '10.0.0.0/8', '--permit-email', 'example.com'];

describe('name constraints (--ca --permit-dns/--permit-ip/--permit-email)', () => {
  let cwd: string;
  let db: string;
  let nss: string;
  let work: string;
  /** A certificate signed with the intermediate's key directly, as a thief holding the key would do. */
  const forge = async (cn: string, sans: SubjectAltName[]): Promise<string> => {
    const key = await importPrivateKey(readFileSync(join(db, 'private/ca.key'), 'utf8'));
    const keys = await generateKeyPair({ type: 'ecdsa', curve: 'P-256' });
    const certificate = await createCertificate({
      subject: { CN: cn },
      publicKey: keys.publicKey,
      serial: randomSerial(),
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      issuerPem: readFileSync(join(db, 'certs/ca.crt'), 'utf8'),
      signingKey: key,
      keyUsage: ['digitalSignature'],
      extendedKeyUsage: ['serverAuth', 'clientAuth'],
      sans,
    });
    const file = join(work, `${cn}.crt`);
    writeFileSync(file, certificate.pem);
    return file;
  };
  /** The verdicts of OpenSSL, GnuTLS and NSS on one leaf. */
  const judge = (leaf: string, nickname: string) => {
    const chain = join(work, `${nickname}.chain.pem`);
    writeFileSync(chain, readFileSync(leaf, 'utf8') + readFileSync(join(db, 'certs/ca.crt'), 'utf8'));
    tool('certutil', ['-A', '-d', nss, '-n', nickname, '-t', ',,', '-i', leaf]);
    return {
      openssl: openssl(['verify', '-x509_strict', '-CAfile', join(db, 'certs/root-ca.crt'), '-untrusted', join(db, 'certs/ca.crt'), leaf]),
      gnutls: tool('certtool', ['--verify', '--load-ca-certificate', join(db, 'certs/root-ca.crt'), '--infile', chain]),
      nss: tool('certutil', ['-V', '-d', nss, '-n', nickname, '-u', 'V']),
    };
  };

  before(async () => {
    cwd = tempDir();
    db = join(cwd, 'etc/ssl');
    work = tempDir('certified-nc-');
    const made = await makeCa(cwd, PERMIT);
    assert.match(made.stderr, /The intermediate may only issue for DNS:\.internal\.example\.com, IP:10\.0\.0\.0\/8, email:example\.com \(a critical nameConstraints extension\)\./);
    const dir = join(work, 'nssdb');
    mkdirSync(dir);
    nss = `sql:${dir}`;
    tool('certutil', ['-N', '-d', nss, '--empty-password']);
    tool('certutil', ['-A', '-d', nss, '-n', 'root', '-t', 'C,,', '-i', join(db, 'certs/root-ca.crt')]);
    tool('certutil', ['-A', '-d', nss, '-n', 'intermediate', '-t', ',,', '-i', join(db, 'certs/ca.crt')]);
  });

  it('puts a critical nameConstraints extension on the intermediate only and saves it in certified.json', () => {
    const intermediate = openssl(['x509', '-in', join(db, 'certs/ca.crt'), '-noout', '-ext', 'nameConstraints']).stdout;
    assert.match(intermediate, /X509v3 Name Constraints: critical\n\s+Permitted:\n\s+DNS:\.internal\.example\.com\n\s+IP:10\.0\.0\.0\/255\.0\.0\.0\n\s+email:example\.com\n/);
    assert.doesNotMatch(openssl(['x509', '-in', join(db, 'certs/root-ca.crt'), '-noout', '-text']).stdout, /Name Constraints/);
    const config = JSON.parse(readFileSync(join(db, 'certified.json'), 'utf8'));
    assert.deepEqual(config.nameConstraints, { dns: ['.internal.example.com'], ip: ['10.0.0.0/8'], email: ['example.com'] });
  });

  it('issues names inside the constraints, and OpenSSL, GnuTLS and NSS accept them', async () => {
    const result = await run(['CN=web.internal.example.com', '+*.apps.internal.example.com', '+10.1.2.3', '+ops@example.com'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    const verdict = judge(join(db, 'certs/web.internal.example.com.crt'), 'inside');
    assert.equal(verdict.openssl.status, 0, verdict.openssl.stderr);
    assert.equal(verdict.gnutls.status, 0, verdict.gnutls.stdout);
    assert.match(verdict.gnutls.stdout, /Chain verification output: Verified\./);
    assert.match(verdict.nss.stdout, /certificate is valid/, verdict.nss.stdout + verdict.nss.stderr);
  });

  for (const [label, cn, sans] of [
    ['a DNS name', 'evil.example.org', [{ type: 'dns', value: 'evil.example.org' }]],
    ['the constrained domain itself (".x" means names under x)', 'internal.example.com', [{ type: 'dns', value: 'internal.example.com' }]],
    ['an IP address', 'ip.internal.example.com', [{ type: 'dns', value: 'ip.internal.example.com' }, { type: 'ip', value: '192.168.1.1' }]],
    ['an e-mail address', 'mail.internal.example.com', [{ type: 'dns', value: 'mail.internal.example.com' }, { type: 'email', value: 'mallory@evil.example' }]],
  ] as const) {
    it(`refuses ${label} outside them up front, and OpenSSL, GnuTLS and NSS reject a certificate forced outside`, async () => {
      const before = snapshot(db);
      const commits = commitCount(db);
      const args = [`CN=${cn}`, ...sans.filter((san) => san.value !== cn).map((san) => `+${san.value}`)];
      const refused = await run(args, { cwd });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^certified: ".*" is outside the name constraints of "Example CA Intermediate" \(permitted: .*\)\. Nothing was written\./);
      assert.deepEqual(snapshot(db), before);
      assert.equal(commitCount(db), commits);

      const forged = await forge(cn, [...sans]);
      const verdict = judge(forged, cn);
      assert.notEqual(verdict.openssl.status, 0);
      assert.match(verdict.openssl.stdout + verdict.openssl.stderr, /permitted subtree violation/);
      assert.notEqual(verdict.gnutls.status, 0);
      assert.match(verdict.gnutls.stdout, /Not verified\..*violates the signer's constraints/);
      assert.match(verdict.nss.stdout + verdict.nss.stderr, /certificate is invalid: The Certifying Authority for this certificate is not permitted to issue a certificate with this name\./);
    });
  }

  it('refuses malformed constraints before making anything', async () => {
    const empty = tempDir();
    for (const [flags, message] of [
      [['--permit-ip', '10.0.0.1/8'], /--permit-ip "10\.0\.0\.1\/8" has bits set after the \/8 prefix\. Write the network address, like 10\.0\.0\.0\/8\./],
      [['--permit-ip', '10.0.0.0/33'], /--permit-ip "10\.0\.0\.0\/33" is not an address range/],
      [['--permit-dns', '*.example.com'], /--permit-dns "\*\.example\.com" cannot be a wildcard/],
      [['--permit-dns', 'bad_name.com'], /--permit-dns "bad_name\.com" is not a DNS domain/],
      [['--permit-email', 'a b@example.com'], /--permit-email "a b@example\.com" is not a mailbox or domain/],
    ] as const) {
      const result = await run(['--ca', 'CN=Bad CA', ...flags], { cwd: empty, env: { CERTIFIED_ROOT_PASSWORD: 'root password for tests' } });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, message);
      assert.deepEqual(tool('ls', ['-A', empty]).stdout, '');
    }
    const leaf = await run(['CN=x.internal.example.com', '--permit-dns', '.example.com'], { cwd });
    assert.equal(leaf.code, 2);
    assert.equal(leaf.stderr, `certified: unknown option '--permit-dns' for "issue". Run "certified issue --help" for usage.\n`);
  });
});

describe('a sub-CA from certificates.yaml is the same as one from --ca --issuer', () => {
  it('has the same nameConstraints, CRL and OCSP URLs and no SANs, and OpenSSL verifies a leaf under it', async () => {
    const cwd = tempDir();
    const db = join(cwd, 'etc/ssl');
    await makeCa(cwd, ['--permit-dns', '.example.com', '--crl-url', 'http://pki.example.com/crl/ca.crl', '--ocsp-url', 'http://pki.example.com/ocsp']);
    const byHand = await run(['--ca', '--issuer', 'ca', 'CN=hand.example.com'], { cwd });
    assert.equal(byHand.code, 0, byHand.stderr);
    writeFileSync(join(db, 'certificates.yaml'), 'certificates:\n  applied-ca: { cn: applied.example.com, ca: true }\n  svc:        { cn: svc.example.com, issuer: applied-ca }\n');
    git(db, ['add', 'certificates.yaml']);
    git(db, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'Add certificates.yaml']);
    const applied = await run(['apply', '--yes'], { cwd, timeoutMs: 300_000 });
    assert.equal(applied.code, 0, applied.stderr);

    const extensions = (name: string) => {
      const out = openssl(['x509', '-in', join(db, `certs/${name}.crt`), '-noout', '-ext', 'basicConstraints,keyUsage,extendedKeyUsage,subjectAltName,nameConstraints,crlDistributionPoints,authorityInfoAccess']);
      assert.equal(out.status, 0, out.stderr);
      return out.stdout;
    };
    const hand = extensions('hand.example.com');
    assert.match(hand, /X509v3 Name Constraints: critical\n\s+Permitted:\n\s+DNS:\.example\.com\n/);
    assert.match(hand, /X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0\n/);
    assert.match(hand, /URI:http:\/\/pki\.example\.com\/crl\/ca\.crl/);
    assert.match(hand, /OCSP - URI:http:\/\/pki\.example\.com\/ocsp/);
    assert.doesNotMatch(hand, /Subject Alternative Name/);
    assert.equal(extensions('applied-ca'), hand);

    const verify = openssl(['verify', '-x509_strict', '-CAfile', join(db, 'certs/root-ca.crt'), '-untrusted', join(db, 'certs/applied-ca.chain.crt'), join(db, 'certs/svc.crt')]);
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    assert.match(extensions('svc'), /URI:http:\/\/pki\.example\.com\/crl\/applied-ca\.crl/);
  });
});
