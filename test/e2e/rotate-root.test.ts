import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ROOT_PASSWORD, commitCount, freshCa, git, openssl, readText, run, tempDir, tool } from '../helpers/cli.js';
import { assertRefused, crlText, serialOf } from '../helpers/lifecycle.js';
import { withNginx } from '../helpers/nginx.js';
import { freePort } from '../helpers/ports.js';

const NEW_ROOT_PASSWORD = 'new root password for tests';
const BOTH = { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD, CERTIFIED_NEW_ROOT_PASSWORD: NEW_ROOT_PASSWORD };
/** After the rotation, one password opens both root keys. */
const NEW_ROOT = { CERTIFIED_ROOT_PASSWORD: NEW_ROOT_PASSWORD };

function certificatesIn(file: string): number {
  return (readText(file).match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;
}

function subjectOf(file: string, field: 'subject' | 'issuer' = 'subject'): string {
  return openssl(['x509', '-in', file, '-noout', `-${field}`, '-nameopt', 'RFC2253']).stdout.trim().replace(/^\w+=/, '');
}

function publicKeyOf(file: string): string {
  return openssl(['x509', '-in', file, '-noout', '-pubkey']).stdout;
}

/** `openssl verify` of a certificate with only `anchor` trusted and its chain file as the untrusted certificates. */
function verifyWith(db: string, anchor: string, name: string, extra: string[] = []): { ok: boolean; output: string } {
  const result = openssl(['verify', ...extra, '-CAfile', join(db, 'certs', anchor), '-untrusted', join(db, `certs/${name}.chain.crt`), join(db, `certs/${name}.crt`)]);
  return { ok: result.status === 0, output: result.stdout + result.stderr };
}

describe('certified rotate-root: a new root bridged by a cross-certificate, then --finish', () => {
  let cwd: string;
  let db: string;
  let oldRoot: string;
  let oldIntermediate: string;
  before(async () => {
    ({ cwd, db } = await freshCa(['--crl-url', 'http://pki.example.com/ca.crl', '--root-crl-url', 'http://pki.example.com/root-ca.crl']));
    assert.equal((await run(['CN=old.example.com'], { cwd })).code, 0);
    assert.equal((await run(['init', '--issuer', 'ca', 'CN=Team CA'], { cwd })).code, 0);
    assert.equal((await run(['issue', '--issuer', 'team-ca', 'CN=svc.example.com'], { cwd })).code, 0);
    // A CA the root signs directly is carried over to the new root too.
    assert.equal((await run(['init', '--issuer', 'root-ca', 'CN=Direct CA'], { cwd, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } })).code, 0);
    assert.equal((await run(['issue', '--issuer', 'direct-ca', 'CN=direct.example.com'], { cwd })).code, 0);
    writeFileSync(join(db, 'certificates.yaml'), 'certificates:\n  managed:\n    cn: managed.example.com\n');
    git(db, ['add', 'certificates.yaml']);
    git(db, ['commit', '-q', '-m', 'Add the manifest']);
    const applied = await run(['apply', '--yes'], { cwd });
    assert.equal(applied.code, 0, applied.stderr);
    oldRoot = readText(join(db, 'certs/root-ca.crt'));
    oldIntermediate = readText(join(db, 'certs/ca.crt'));
  });

  it('refuses what it cannot do, writing nothing', async () => {
    await assertRefused(['rotate-root', '--finish'], { cwd }, 1, /no root rotation is under way/);
    await assertRefused(['rotate-root'], { cwd, env: { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD } }, 1, /the new root key needs a password and none was given/);
    await assertRefused(['rotate-root', '--root-password', 'not the password'], { cwd, env: { CERTIFIED_NEW_ROOT_PASSWORD: NEW_ROOT_PASSWORD } }, 1, /the password for "private\/root-ca\.key" is wrong/);
    await assertRefused(['rotate-root', 'CN=Example CA'], { cwd, env: BOTH }, 1, /the subject "C=US, O=Example, CN=Example CA" is the subject of the CA "root-ca"/);
    // Without the old root's key there is nothing to sign the cross-certificate with.
    const away = join(cwd, 'root-ca.key');
    renameSync(join(db, 'private/root-ca.key'), away);
    try {
      await assertRefused(['rotate-root'], { cwd, env: BOTH }, 1, /the key of "root-ca" is not at "private\/root-ca\.key"/);
    } finally {
      renameSync(away, join(db, 'private/root-ca.key'));
    }
  });

  it('makes the new root, the cross-certificate and the intermediate under the new root in one commit', async () => {
    const commits = commitCount(db);
    const rotated = await run(['rotate-root', 'CN=Example Root 2027'], { cwd, env: BOTH });
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(commitCount(db), commits + 1);
    const message = git(db, ['log', '-1', '--format=%B']);
    assert.match(message, /^Rotate the root to "Example Root 2027" \(ECDSA P-384, expires \d{4}-\d{2}-\d{2}\), bridged by a cross-certificate\n/);
    assert.match(message, /\nCertified-Action: rotate-root\n/);
    assert.match(message, new RegExp(`\\nCertified-Old-Root-Serial: ${serialOf(join(db, 'certs/root-ca.old.crt'))}\\n`));

    assert.equal(readText(join(db, 'certs/root-ca.old.crt')), oldRoot);
    assert.equal(readText(join(db, 'certs/ca.old.crt')), oldIntermediate);
    assert.equal(subjectOf(join(db, 'certs/root-ca.crt')), 'CN=Example Root 2027,O=Example,C=US');
    assert.equal(subjectOf(join(db, 'certs/root-ca.crt'), 'issuer'), 'CN=Example Root 2027,O=Example,C=US');
    // The cross-certificate: the new root's name and key, signed by the old root.
    const cross = join(db, 'certs/root-ca.cross.crt');
    assert.equal(subjectOf(cross), subjectOf(join(db, 'certs/root-ca.crt')));
    assert.equal(subjectOf(cross, 'issuer'), 'CN=Example CA,O=Example,C=US');
    assert.equal(publicKeyOf(cross), publicKeyOf(join(db, 'certs/root-ca.crt')));
    const crossText = openssl(['x509', '-in', cross, '-noout', '-text']).stdout;
    assert.match(crossText, /CA:TRUE\n/);
    // The old root keeps publishing where its certificates point; the new root has a URL of its own.
    assert.match(crossText, /URI:http:\/\/pki\.example\.com\/root-ca\.crl\n/);
    assert.match(openssl(['x509', '-in', join(db, 'certs/ca.crt'), '-noout', '-text']).stdout, /URI:http:\/\/pki\.example\.com\/root-ca\.2\.crl\n/);
    assert.match(crlText(join(db, 'crl/root-ca.crl')), /Issuer: C = US, O = Example, CN = Example CA\n/);
    assert.match(crlText(join(db, 'crl/root-ca.2.crl')), /Issuer: C = US, O = Example, CN = Example Root 2027\n/);
    assert.ok(openssl(['verify', '-CAfile', join(db, 'certs/root-ca.old.crt'), cross]).status === 0);
    // The intermediate keeps its key and name, now certified by the new root.
    const intermediate = join(db, 'certs/ca.crt');
    assert.equal(publicKeyOf(intermediate), publicKeyOf(join(db, 'certs/ca.old.crt')));
    assert.equal(subjectOf(intermediate), subjectOf(join(db, 'certs/ca.old.crt')));
    assert.equal(subjectOf(intermediate, 'issuer'), 'CN=Example Root 2027,O=Example,C=US');
    assert.match(openssl(['x509', '-in', intermediate, '-noout', '-text']).stdout, /CA:TRUE, pathlen:1/);
    assert.equal(certificatesIn(join(db, 'certs/roots.crt')), 2);
    assert.equal(certificatesIn(join(db, 'certs/ca.chain.crt')), 2);
    assert.equal(certificatesIn(join(db, 'certs/team-ca.chain.crt')), 3);
    assert.equal(publicKeyOf(join(db, 'certs/direct-ca.crt')), publicKeyOf(join(db, 'certs/direct-ca.old.crt')));
    assert.equal(subjectOf(join(db, 'certs/direct-ca.crt'), 'issuer'), 'CN=Example Root 2027,O=Example,C=US');
    assert.match(openssl(['x509', '-in', join(db, 'certs/direct-ca.crt'), '-noout', '-text']).stdout, /CA:TRUE, pathlen:0/);
    assert.ok(existsSync(join(db, 'private/root-ca.old.key')));
    const tracked = git(db, ['ls-files']);
    assert.doesNotMatch(tracked, /private\//);
    assert.match(tracked, /records\/root-ca\.old\/[0-9a-f]+\.json/);
    assert.match(readText(join(db, 'certified.json')), /"bridge": true/);
    await assertRefused(['rotate-root'], { cwd, env: { ...BOTH, CERTIFIED_ROOT_PASSWORD: NEW_ROOT_PASSWORD } }, 1, /a root rotation is under way/);
  });

  it('issues under the new root with a chain that clients trusting only the old root or only the new root accept', async () => {
    assert.equal((await run(['CN=new.example.com'], { cwd })).code, 0);
    assert.equal(certificatesIn(join(db, 'certs/new.example.com.chain.crt')), 3);
    for (const anchor of ['root-ca.old.crt', 'root-ca.crt']) {
      const verified = verifyWith(db, anchor, 'new.example.com');
      assert.ok(verified.ok, `${anchor}: ${verified.output}`);
    }
    const crls = ['root-ca', 'root-ca.2', 'ca'].flatMap((name) => ['-CRLfile', join(db, `crl/${name}.crl`)]);
    for (const anchor of ['root-ca.old.crt', 'root-ca.crt']) {
      const verified = verifyWith(db, anchor, 'new.example.com', ['-crl_check_all', ...crls]);
      assert.ok(verified.ok, `${anchor} with CRLs: ${verified.output}`);
    }
    // What a sub-CA issues goes through its rewritten chain.
    assert.equal((await run(['issue', '--issuer', 'team-ca', 'CN=svc2.example.com'], { cwd })).code, 0);
    assert.ok(verifyWith(db, 'root-ca.old.crt', 'svc2.example.com').ok);
    assert.ok(verifyWith(db, 'root-ca.crt', 'svc2.example.com').ok);
    // A certificate issued before the rotation still verifies against the old root, with the CRLs its URLs name.
    const byUrl = ['root-ca', 'ca'].flatMap((name) => ['-CRLfile', join(db, `crl/${name}.crl`)]);
    const old = verifyWith(db, 'root-ca.old.crt', 'old.example.com', ['-crl_check_all', ...byUrl]);
    assert.ok(old.ok, old.output);
    assert.equal((await run(['issue', '--issuer', 'direct-ca', 'CN=direct2.example.com'], { cwd })).code, 0);
    assert.ok(verifyWith(db, 'root-ca.old.crt', 'direct2.example.com').ok);
    assert.ok(verifyWith(db, 'root-ca.crt', 'direct2.example.com').ok);
    // The old root and the certificates it signed sign nothing new; their names are reserved.
    await assertRefused(['init', '--issuer', 'root-ca.old', 'CN=Late CA'], { cwd, env: NEW_ROOT }, 1, /"root-ca\.old" is a certificate of the root that "certified rotate-root" replaced, and signs nothing new\. Sign with the new one: --issuer root-ca/);
    await assertRefused(['--name', 'roots', 'CN=roots.example.com'], { cwd }, 1, /the name "roots" is reserved/);
    await assertRefused(['revoke', '--name', 'root-ca.cross'], { cwd, env: NEW_ROOT }, 1, /the cross-certificate is the bridge of the root rotation under way/);
  });

  it('is served by nginx and accepted by curl with either root as its CA file', async () => {
    const work = tempDir('certified-nginx-');
    const port = await freePort();
    await withNginx(
      work,
      `    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${db}/certs/new.example.com.chain.crt;
    ssl_certificate_key ${db}/private/new.example.com.key;
    location / { return 200 "ok\\n"; }`,
      async () => {
        for (const anchor of ['root-ca.old.crt', 'root-ca.crt']) {
          let result = tool('curl', ['-sS', '--retry', '20', '--retry-connrefused', '--retry-delay', '0', '--cacert', join(db, 'certs', anchor), '--resolve', `new.example.com:${port}:127.0.0.1`, `https://new.example.com:${port}/`]);
          assert.equal(result.stdout, 'ok\n', `${anchor}: ${result.stderr}${readFileSync(join(work, 'error.log'), 'utf8')}`);
          result = tool('curl', ['-sS', '--cacert', join(db, 'certs/roots.crt'), '--resolve', `new.example.com:${port}:127.0.0.1`, `https://new.example.com:${port}/`]);
          assert.equal(result.stdout, 'ok\n', result.stderr);
        }
      },
    );
  });

  it('check passes and lists what is still under the old root; renew moves it; crl signs both roots', async () => {
    let checked = await run(['check'], { cwd });
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stderr, /(\d+) certificate\(s\) still chain to the old root, [^\n]*"old\.example\.com"/);
    assert.match(checked.stderr, /"svc\.example\.com"/);
    assert.doesNotMatch(checked.stderr, /still chain to the old root[^\n]*"new\.example\.com"/);
    assert.match(checked.stderr, /still chain to the old root[^\n]*"direct\.example\.com"/);
    // The old root's own certificates are where those chains lead, not what is left under it.
    assert.doesNotMatch(checked.stderr, /still chain to the old root[^\n]*"(direct-ca|ca)\.old"/);
    // plan sees nothing to do for a managed certificate issued before the rotation.
    const planned = await run(['plan'], { cwd });
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stderr, /Nothing to do/);

    const renewed = await run(['renew', 'CN=old.example.com', '--yes'], { cwd });
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.ok(verifyWith(db, 'root-ca.crt', 'old.example.com').ok);
    checked = await run(['check'], { cwd });
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.doesNotMatch(checked.stderr, /"old\.example\.com"/);

    const crl = await run(['crl'], { cwd, env: NEW_ROOT });
    assert.equal(crl.code, 0, crl.stderr);
    assert.match(crl.stderr, /Re-signed "[^"]*crl\/root-ca\.2\.crl"/);
    assert.match(crl.stderr, /Re-signed "[^"]*crl\/root-ca\.crl"/);
    assert.match(openssl(['crl', '-in', join(db, 'crl/root-ca.crl'), '-CAfile', join(db, 'certs/root-ca.old.crt'), '-noout']).stderr, /verify OK/);
    assert.match(openssl(['crl', '-in', join(db, 'crl/root-ca.2.crl'), '-CAfile', join(db, 'certs/root-ca.crt'), '-noout']).stderr, /verify OK/);
  });

  it('trust installs both roots while the rotation bridges them', async () => {
    const home = tempDir('certified-home-');
    const nssdb = join(home, '.pki/nssdb');
    mkdirSync(nssdb, { recursive: true });
    assert.equal(tool('certutil', ['-N', '-d', `sql:${nssdb}`, '--empty-password']).status, 0);
    const trusted = await run(['trust', '--nss'], { cwd, env: { HOME: home } });
    assert.equal(trusted.code, 0, trusted.stderr);
    const listed = tool('certutil', ['-L', '-d', `sql:${nssdb}`]).stdout;
    assert.match(listed, /Example Root 2027/);
    assert.match(listed, /Example CA /);
  });

  it('--finish drops the bridge from chain files and the old root from roots.crt', async () => {
    const finished = await run(['rotate-root', '--finish'], { cwd });
    assert.equal(finished.code, 0, finished.stderr);
    assert.match(finished.stderr, /still chain to the old root[^\n]*svc\.example\.com/);
    assert.match(git(db, ['log', '-1', '--format=%B']), /\nCertified-Action: rotate-root-finish\n/);
    assert.equal(certificatesIn(join(db, 'certs/roots.crt')), 1);
    assert.equal(readText(join(db, 'certs/roots.crt')), readText(join(db, 'certs/root-ca.crt')));
    assert.equal(certificatesIn(join(db, 'certs/ca.chain.crt')), 1);
    assert.equal(certificatesIn(join(db, 'certs/new.example.com.chain.crt')), 2);
    assert.equal(certificatesIn(join(db, 'certs/team-ca.chain.crt')), 2);
    assert.ok(verifyWith(db, 'root-ca.crt', 'new.example.com').ok);
    assert.ok(!verifyWith(db, 'root-ca.old.crt', 'new.example.com').ok, 'no bridge to the old root any more');
    assert.equal((await run(['CN=later.example.com'], { cwd })).code, 0);
    assert.equal(certificatesIn(join(db, 'certs/later.example.com.chain.crt')), 2);
    const checked = await run(['check'], { cwd });
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    await assertRefused(['rotate-root', '--finish'], { cwd }, 1, /no root rotation is under way/);
    await assertRefused(['rotate-root'], { cwd, env: { ...BOTH, ...NEW_ROOT } }, 1, /the root was rotated before, and the root it replaced is still at "certs\/root-ca\.old\.crt"/);
  });
});

describe('certified rotate-root: what the rotation changes for revocation', () => {
  let cwd: string;
  let db: string;
  before(async () => {
    ({ cwd, db } = await freshCa());
    assert.equal((await run(['CN=old.example.com'], { cwd })).code, 0);
    const rotated = await run(['rotate-root'], { cwd, env: BOTH });
    assert.equal(rotated.code, 0, rotated.stderr);
  });

  it('revoking the intermediate revokes its certificate under the old root too, each on its root CRL', async () => {
    const newSerial = serialOf(join(db, 'certs/ca.crt'));
    const oldSerial = serialOf(join(db, 'certs/ca.old.crt'));
    const commits = commitCount(db);
    const revoked = await run(['revoke', '--ca', '--reason', 'keyCompromise'], { cwd, env: NEW_ROOT });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(commitCount(db), commits + 1);
    assert.match(crlText(join(db, 'crl/root-ca.2.crl')), new RegExp(`Serial Number: ${newSerial.toUpperCase()}\\n`));
    assert.match(crlText(join(db, 'crl/root-ca.crl')), new RegExp(`Serial Number: ${oldSerial.toUpperCase()}\\n`));
    assert.ok(!existsSync(join(db, 'certs/ca.old.crt')));
    const judged = openssl(['verify', '-crl_check_all', '-CAfile', join(db, 'certs/root-ca.old.crt'), '-untrusted', join(db, 'certs/old.example.com.chain.crt'),
      '-CRLfile', join(db, 'crl/root-ca.crl'), '-CRLfile', join(db, 'crl/ca.crl'), join(db, 'certs/old.example.com.crt')]);
    assert.match(judged.stdout + judged.stderr, /certificate revoked/);
  });
});

