import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ROOT_PASSWORD, commitCount, git, makeCa, openssl, run, tempDir } from '../helpers/cli.js';
import { assertRefused, revokedDirOf } from '../helpers/lifecycle.js';
import { committedFiles, publicKey, serialOf, x509Text } from '../helpers/judge.js';

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
const URLS = ['--crl-url', 'http://pki.example.com/ca.crl', '--root-crl-url', 'http://pki.example.com/root-ca.crl'];
const EXTERNAL = /is an external CA: certified has no key for it and cannot sign with it/;

/**
 * An external engine (Vault, step-ca, cert-manager, Caddy) played by OpenSSL: it makes its key and
 * CSR, certified signs its CA certificate, and it issues leaves and CRLs with `openssl x509 -req`
 * and `openssl ca -gencrl`. OpenSSL judges the result.
 */
describe('certified --ca --csr FILE --issuer CA (a CA for an external engine)', () => {
  let cwd: string;
  let db: string;
  let work: string;

  /** The engine's key and CSR; `extra` are -addext requests the profile must ignore. */
  function engineCsr(name: string, subject: string, newkey = EC, extra: string[] = []): string {
    const out = join(work, `${name}.csr`);
    const args = ['req', '-new', ...newkey, '-nodes', '-keyout', join(work, `${name}.key`), '-subj', subject, '-out', out];
    for (const ext of extra) args.push('-addext', ext);
    const result = openssl(args);
    assert.equal(result.status, 0, result.stderr);
    return out;
  }

  /** A leaf the engine issues for `dns` (and `extraSans`) with its own key, as its ACME server or PKI mount would. */
  function engineLeaf(engine: string, engineCert: string, dns: string, extraSans = ''): string {
    const csr = engineCsr(`leaf-${dns}`, `/CN=${dns}`);
    const ext = join(work, `leaf-${dns}.ext`);
    writeFileSync(
      ext,
      `subjectAltName=DNS:${dns}${extraSans}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n`,
    );
    const out = join(work, `leaf-${dns}.crt`);
    const result = openssl(['x509', '-req', '-in', csr, '-CA', engineCert, '-CAkey', join(work, `${engine}.key`), '-days', '30', '-extfile', ext, '-out', out]);
    assert.equal(result.status, 0, result.stderr);
    return out;
  }

  /** The engine's own (empty) CRL, which -crl_check_all needs for the leaf. */
  function engineCrl(engine: string, engineCert: string): string {
    const dir = tempDir('certified-engine-');
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'engine.cnf'), `[ca]\ndefault_ca = engine\n[engine]\ndatabase = ${join(dir, 'index.txt')}\ndefault_md = sha256\ndefault_crl_days = 7\n`);
    const out = join(work, `${engine}.crl`);
    const result = openssl(['ca', '-config', join(dir, 'engine.cnf'), '-gencrl', '-cert', engineCert, '-keyfile', join(work, `${engine}.key`), '-out', out]);
    assert.equal(result.status, 0, result.stderr);
    return out;
  }

  function verify(leaf: string, chain: string, crls?: string[]) {
    const args = ['verify', '-x509_strict', '-CAfile', join(db, 'certs/root-ca.crt'), '-untrusted', chain];
    if (crls) args.push('-crl_check_all', ...crls.flatMap((crl) => ['-CRLfile', crl]));
    const result = openssl([...args, leaf]);
    return { ok: result.status === 0, output: result.stdout + result.stderr };
  }

  before(async () => {
    cwd = tempDir();
    db = join(cwd, 'etc/ssl');
    work = tempDir('certified-delegate-');
    await makeCa(cwd, ['--permit-dns', 'example.com', '--permit-ip', '10.0.0.0/8', ...URLS]);
  });

  it('signs the CSR as a CA with our profile, not the CSR\'s: pathlen 0, keyCertSign + cRLSign, our CRL URL, the narrowed constraints', async () => {
    const csr = engineCsr('engine', '/CN=Engine CA', EC, ['basicConstraints=critical,CA:TRUE,pathlen:5', 'keyUsage=critical,digitalSignature,keyCertSign', 'subjectAltName=DNS:engine.example.org']);
    const commits = commitCount(db);
    const result = await run(['--ca', '--csr', csr, '--issuer', 'ca', '--permit-dns', '.svc.example.com'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Signed the external CA "Engine CA" \(engine-ca, ECDSA P-256, pathlen 0\) under "ca"\./);
    assert.match(result.stderr, /It may only issue for DNS:\.svc\.example\.com, IP:10\.0\.0\.0\/8 \(a critical nameConstraints extension; DNS names, IP addresses and e-mail addresses not listed are shut/);
    const crt = join(db, 'certs/engine-ca.crt');
    assert.equal(result.stdout, readFileSync(join(db, 'certs/engine-ca.chain.crt'), 'utf8'));
    assert.equal(readFileSync(join(db, 'certs/engine-ca.chain.crt'), 'utf8'), readFileSync(crt, 'utf8') + readFileSync(join(db, 'certs/ca.crt'), 'utf8'));
    const text = x509Text(crt);
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0\n/);
    assert.match(text, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
    assert.match(text, /X509v3 Subject Key Identifier:/);
    assert.match(text, /X509v3 Authority Key Identifier:/);
    assert.match(text, /X509v3 CRL Distribution Points:\s+Full Name:\s+URI:http:\/\/pki\.example\.com\/ca\.crl\n/);
    // The kind of name neither the chain nor the flags permit is shut (only the reserved .invalid), not left free.
    assert.match(text, /X509v3 Name Constraints: critical\n\s+Permitted:\n\s+DNS:\.svc\.example\.com\n\s+IP:10\.0\.0\.0\/255\.0\.0\.0\n\s+email:\.invalid\n/);
    assert.doesNotMatch(text, /engine\.example\.org|Digital Signature|pathlen:5/);
    assert.equal(publicKey('x509', crt), publicKey('req', csr));
    // Files and record like a sub-CA's, but no key and no CRL: both stay with the engine.
    assert.ok(!existsSync(join(db, 'private/engine-ca.key')));
    assert.ok(!existsSync(join(db, 'crl/engine-ca.crl')));
    const serial = serialOf(crt);
    const record = JSON.parse(readFileSync(join(db, `records/ca/${serial}.json`), 'utf8'));
    assert.equal(record.profile, 'ca');
    assert.equal(record.external, true);
    assert.equal(commitCount(db), commits + 1);
    assert.deepEqual(committedFiles(db), ['certs/engine-ca.chain.crt', 'certs/engine-ca.crt', `records/ca/${serial}.json`]);
    assert.match(git(db, ['log', '-1', '--format=%B']), /\nCertified-Action: create-external-ca\nCertified-Name: engine-ca\nCertified-Issuer: ca\n/);
  });

  it('OpenSSL accepts a leaf the engine issues inside the constraints and rejects one outside them', () => {
    const chain = join(db, 'certs/engine-ca.chain.crt');
    const inside = verify(engineLeaf('engine', join(db, 'certs/engine-ca.crt'), 'web.svc.example.com'), chain);
    assert.ok(inside.ok, inside.output);
    const outside = verify(engineLeaf('engine', join(db, 'certs/engine-ca.crt'), 'web.example.com'), chain);
    assert.ok(!outside.ok);
    assert.match(outside.output, /permitted subtree violation/);
    const mail = verify(engineLeaf('engine', join(db, 'certs/engine-ca.crt'), 'mail.svc.example.com', ',email:ceo@bank.example'), chain);
    assert.ok(!mail.ok, 'an e-mail address, which nothing permits');
    assert.match(mail.output, /permitted subtree violation/);
  });

  it('lists it as an external CA, and check passes without its key or a CRL of its', async () => {
    const ls = await run(['ls'], { cwd });
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /\nengine-ca +Engine CA +- +ca +[0-9a-f]+ +\S+ +valid \(external CA\)\n/);
    const check = await run(['check'], { cwd });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.doesNotMatch(check.stdout + check.stderr, /engine-ca/);
  });

  it('refuses to issue, sign, or make a sub-CA from it, naming it as external', async () => {
    const leafCsr = engineCsr('wants-engine', '/CN=api.svc.example.com');
    for (const args of [
      ['issue', '--issuer', 'engine-ca', 'CN=api.svc.example.com'],
      ['--issuer', 'Engine CA', 'CN=api.svc.example.com'],
      ['sign', leafCsr, '--issuer', 'engine-ca'],
      ['--ca', '--issuer', 'engine-ca', 'CN=Below Engine'],
      ['--ca', '--csr', engineCsr('below-engine', '/CN=Below Engine 2'), '--issuer', 'engine-ca'],
    ]) {
      const result = await assertRefused(args, { cwd }, 1, EXTERNAL);
      assert.match(result.stderr, /give --issuer a CA certified holds, like --issuer ca\.\n$/, args.join(' '));
    }
    // certificates.yaml too: plan says so before apply would open any key.
    const manifest = join(db, 'certificates.yaml');
    writeFileSync(manifest, 'certificates:\n  api:\n    cn: api.svc.example.com\n    issuer: engine-ca\n');
    try {
      for (const args of [['plan'], ['apply', '--yes']]) {
        await assertRefused(args, { cwd }, 1, /certificates\.yaml:2: the issuer of "api", "engine-ca", is an external CA: certified has no key for it\. .*use issuer: ca\./);
      }
    } finally {
      rmSync(manifest);
    }
  });

  it('refuses bad input with one line, no file and no commit', async () => {
    const good = engineCsr('good', '/CN=Good Engine');
    const der = join(work, 'tampered.der');
    const tampered = Buffer.from(readFileSync(good, 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
    tampered[tampered.length - 3]! ^= 0x01; // inside the signature's BIT STRING
    writeFileSync(der, tampered);
    const weak = engineCsr('weak', '/CN=Weak Engine', ['-newkey', 'rsa:1024']);
    const reused = join(work, 'reused.csr');
    assert.equal(openssl(['req', '-new', '-key', join(db, 'private/ca.key'), '-subj', '/CN=Copy CA', '-out', reused]).status, 0);
    const made = await run(['--ca', '--issuer', 'ca', '--name', 'team', 'CN=Team CA'], { cwd });
    assert.equal(made.code, 0, made.stderr);
    const lookalike = engineCsr('lookalike', '/C=US/O=Example/CN=Example CA Intermediate');
    const two = join(work, 'two.csr');
    writeFileSync(two, readFileSync(good, 'utf8') + readFileSync(lookalike, 'utf8'));
    const cases: [string[], 1 | 2, RegExp][] = [
      [['--ca', '--csr', der, '--issuer', 'ca'], 1, /is not a usable certificate signing request: its signature does not match its key/],
      [['--ca', '--csr', weak, '--issuer', 'ca'], 1, /the CSR's key is RSA 1024, below the minimum of 2048 bits/],
      [['--ca', '--csr', good, '--issuer', 'ca', '--pathlen', '1'], 1, /the CA "ca" \(pathlen 1\) cannot sign a CA with --pathlen 1\. Nothing was written\. Give --pathlen 0 or less, or sign it with --issuer root-ca\./],
      [['--ca', '--csr', good, '--issuer', 'team'], 1, /the CA "team" may not sign CAs \(pathlen 0\)/],
      [['--ca', '--csr', good, '--issuer', 'ca', '--pathlen', 'x'], 1, /--pathlen must be a whole number from 0 to 8, got "x"/],
      [['--ca', '--csr', lookalike, '--issuer', 'ca', '--name', 'lookalike'], 1, /the subject "C=US, O=Example, CN=Example CA Intermediate" is the subject of the CA "ca"/],
      [['--ca', '--issuer', 'ca', '--name', 'lookalike', 'CN=Example CA Intermediate'], 1, /the subject "C=US, O=Example, CN=Example CA Intermediate" is the subject of the CA "ca"/],
      [['--ca', '--csr', two, '--issuer', 'ca'], 1, /it holds 2 requests, not one/],
      [['--ca', '--csr', reused, '--issuer', 'ca'], 1, /the CSR's key is the key of the CA "ca" in this CA/],
      [['--ca', '--csr', good, '--issuer', 'ca', '--name', 'engine-ca'], 1, /the name "engine-ca" is already taken/],
      [['--ca', '--csr', good, '--issuer', 'ca', '--name', 'ca'], 1, /the name "ca" is reserved for the CA's own certificates/],
      [['--ca', '--csr', good, '--issuer', 'ca', '--permit-dns', 'example.org'], 1, /--permit-dns "example\.org" is outside the name constraints of "Example CA Intermediate" \(permitted: example\.com\)/],
      [['--ca', '--csr', good, '--issuer', 'ca', '--permit-ip', '11.0.0.0/8'], 1, /--permit-ip "11\.0\.0\.0\/8" is outside the name constraints/],
      [['--ca', '--csr', good, '--issuer', 'ca', '--permit-ip', '0.0.0.0/0'], 1, /--permit-ip "0\.0\.0\.0\/0" is outside the name constraints/],
      [['--ca', '--csr', good], 2, /option '--csr <file>' can only be used with option '--issuer <ca>'/],
      [['--ca', '--csr', good, '--issuer', 'ca', 'CN=Other'], 2, /the subject of the CA comes from its CSR/],
      [['--ca', '--csr', good, '--issuer', 'ca', '--password', 'secret-secret'], 2, /option '--csr <file>' cannot be used with option '--password <password>'/],
      [['--ca', '--issuer', 'ca', '--pathlen', '1', 'CN=Sub'], 2, /option '--pathlen <n>' can only be used with option '--csr <file>'/],
      [['--ca', '--issuer', 'ca', '--permit-dns', 'a.example.com', 'CN=Sub'], 2, /--permit-dns goes with --issuer only for --csr: a sub-CA takes the name constraints of the CA it is under/],
    ];
    for (const [args, code, message] of cases) await assertRefused(args, { cwd }, code, message);
  });

  it('never makes a CA from a leaf --csr, even when the CSR asks for CA:TRUE', async () => {
    const csr = engineCsr('sneaky', '/CN=sneaky.example.com', EC, ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectAltName=DNS:sneaky.example.com']);
    const result = await run(['--csr', csr], { cwd });
    assert.equal(result.code, 0, result.stderr);
    const crt = join(db, 'certs/sneaky.example.com.crt');
    const text = x509Text(crt);
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
    assert.doesNotMatch(text, /Certificate Sign|CRL Sign/);
    // What its key signs is no certificate OpenSSL accepts.
    const leaf = engineLeaf('sneaky', crt, 'below.sneaky.example.com');
    const chain = join(work, 'sneaky.chain.pem');
    writeFileSync(chain, readFileSync(join(db, 'certs/sneaky.example.com.chain.crt'), 'utf8'));
    const verdict = verify(leaf, chain);
    assert.ok(!verdict.ok);
    assert.match(verdict.output, /invalid CA certificate|not a CA/i);
  });

  it('revokes it into the intermediate\'s CRL: OpenSSL then rejects what the engine issued', async () => {
    const crt = join(db, 'certs/engine-ca.crt');
    const chain = join(work, 'engine-ca.chain.crt');
    writeFileSync(chain, readFileSync(join(db, 'certs/engine-ca.chain.crt'), 'utf8'));
    const leaf = engineLeaf('engine', crt, 'app.svc.example.com');
    const crls = [join(db, 'crl/root-ca.crl'), join(db, 'crl/ca.crl'), engineCrl('engine', crt)];
    const before = verify(leaf, chain, crls);
    assert.ok(before.ok, before.output);
    const serial = serialOf(crt);
    const revoked = await run(['revoke', '--name', 'engine-ca'], { cwd });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stderr, /The CRL "etc\/ssl\/crl\/ca\.crl" \(number \d+\) lists it/);
    assert.ok(existsSync(join(revokedDirOf(db, 'engine-ca', serial), 'engine-ca.crt')));
    const after = verify(leaf, chain, crls);
    assert.ok(!after.ok);
    assert.match(after.output, /error 23 at 1 depth lookup: certificate revoked/);
    // Its files moved away, and it is still named as external, not as an unknown CA.
    await assertRefused(['issue', '--issuer', 'engine-ca', 'CN=late.svc.example.com'], { cwd }, 1, EXTERNAL);
    const check = await run(['check'], { cwd });
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });

  it('takes the name of a revoked CA, whose last CRL stays published apart and is not re-signed for it', async () => {
    const teamSerial = serialOf(join(db, 'certs/team.crt'));
    assert.equal((await run(['revoke', '--name', 'team'], { cwd })).code, 0);
    const csr = engineCsr('team2', '/CN=Team Engine CA');
    const made = await run(['--ca', '--csr', csr, '--issuer', 'ca', '--name', 'team'], { cwd });
    assert.equal(made.code, 0, made.stderr);
    assert.ok(!existsSync(join(db, 'crl/team.crl')));
    assert.ok(existsSync(join(db, `crl/team-${teamSerial}.crl`)));
    const crl = await run(['crl'], { cwd });
    assert.equal(crl.code, 0, crl.stderr);
    const check = await run(['check'], { cwd });
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });

  it('lets the root sign one with a longer path, and revoking it needs the root key', async () => {
    const csr = engineCsr('engine2', '/CN=Platform CA');
    const made = await run(['--ca', '--csr', csr, '--issuer', 'root-ca', '--pathlen', '1', '--name', 'platform'], { cwd, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } });
    assert.equal(made.code, 0, made.stderr);
    const crt = join(db, 'certs/platform.crt');
    const text = x509Text(crt);
    assert.match(text, /CA:TRUE, pathlen:1\n/);
    assert.match(text, /URI:http:\/\/pki\.example\.com\/root-ca\.crl\n/);
    assert.match(text, /Permitted:\n\s+DNS:example\.com\n\s+IP:10\.0\.0\.0\/255\.0\.0\.0\n/);
    assert.equal(JSON.parse(readFileSync(join(db, `records/root-ca/${serialOf(crt)}.json`), 'utf8')).external, true);
    const chain = join(work, 'platform.chain.crt');
    writeFileSync(chain, readFileSync(join(db, 'certs/platform.chain.crt'), 'utf8'));
    assert.equal(readFileSync(chain, 'utf8'), readFileSync(crt, 'utf8'), 'the root is not in a chain file');
    const leaf = engineLeaf('engine2', crt, 'db.example.com');
    const crls = [join(db, 'crl/root-ca.crl'), engineCrl('engine2', crt)];
    assert.ok(verify(leaf, chain, crls).ok);

    await assertRefused(['revoke', '--name', 'platform'], { cwd }, 1, /the root key needs a password and none was given\. Pass --root-password -/);
    const revoked = await run(['revoke', '--name', 'platform', '--root-password', '-'], { cwd, input: `${ROOT_PASSWORD}\n` });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stderr, /The CRL "etc\/ssl\/crl\/root-ca\.crl" \(number \d+\) lists it/);
    const after = verify(leaf, chain, crls);
    assert.ok(!after.ok);
    assert.match(after.output, /error 23 at 1 depth lookup: certificate revoked/);
  });
});
