import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeCa, openssl, run, tempDir, tool } from '../helpers/cli.js';
import { freePort, serve, type Served } from '../helpers/serve.js';
import { withNginx } from '../helpers/nginx.js';

describe('certified serve (CRLs and OCSP)', () => {
  let cwd: string;
  let db: string;
  let port: number;
  let served: Served;
  let url: string;
  const ocsp = (leaf: string, extra: string[] = []) =>
    openssl(['ocsp', '-issuer', join(db, 'certs/ca.crt'), '-cert', join(db, `certs/${leaf}.crt`), '-url', url, '-CAfile', join(db, 'certs/root-ca.crt'), ...extra]);

  before(async () => {
    cwd = tempDir();
    db = join(cwd, 'etc/ssl');
    port = await freePort();
    url = `http://127.0.0.1:${port}/ocsp`;
    await makeCa(cwd, ['--ocsp-url', url]);
    for (const cn of ['good.example.com', 'revoked.example.com', 'rsa.example.com']) {
      const issued = await run([`CN=${cn}`, ...(cn.startsWith('rsa') ? ['--bits', '2048'] : [])], { cwd });
      assert.equal(issued.code, 0, issued.stderr);
    }
    served = await serve(cwd, port);
    assert.match(served.stderr(), /Serving CRLs at http:\/\/127\.0\.0\.1:\d+\/crl\/<issuer>\.crl and OCSP for "ca" at http:\/\/127\.0\.0\.1:\d+\/ocsp\./);
  });
  after(() => {
    if (served.child.exitCode === null) served.child.kill('SIGKILL');
  });

  it('answers good, revoked (with the reason) and unknown, signed by the intermediate, as OpenSSL checks', async () => {
    const good = ocsp('good.example.com');
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /good\.example\.com\.crt: good\n/);
    assert.match(good.stderr, /Response verify OK/);
    assert.match(ocsp('rsa.example.com').stdout, /rsa\.example\.com\.crt: good\n/);

    // Revocation comes from the records, read at each request.
    const serial = openssl(['x509', '-in', join(db, 'certs/revoked.example.com.crt'), '-noout', '-serial']).stdout.trim().split('=')[1]!.toLowerCase().replace(/^(00)+/, '');
    assert.match(ocsp('revoked.example.com').stdout, /: good\n/);
    const recordFile = join(db, `records/ca/${serial}.json`);
    const record = JSON.parse(readFileSync(recordFile, 'utf8'));
    writeFileSync(recordFile, JSON.stringify({ ...record, status: 'revoked', revocation: { date: '2026-01-02T03:04:05.000Z', reason: 'keyCompromise' } }));
    const revoked = ocsp('revoked.example.com');
    assert.equal(revoked.status, 0, revoked.stderr);
    assert.match(revoked.stdout, /revoked\.example\.com\.crt: revoked\n/);
    assert.match(revoked.stdout, /Reason: keyCompromise\n\s+Revocation Time: Jan\s+2 03:04:05 2026 GMT/);
    assert.match(revoked.stderr, /Response verify OK/);

    const unknown = openssl(['ocsp', '-issuer', join(db, 'certs/ca.crt'), '-serial', '0x1234', '-url', url, '-CAfile', join(db, 'certs/root-ca.crt')]);
    assert.match(unknown.stdout, /0x1234: unknown\n/);

    // A certificate of another CA: this responder is not authoritative.
    const other = openssl(['ocsp', '-issuer', join(db, 'certs/root-ca.crt'), '-cert', join(db, 'certs/ca.crt'), '-url', url, '-CAfile', join(db, 'certs/root-ca.crt')]);
    assert.match(other.stdout + other.stderr, /unauthorized/);
  });

  it('answers GET with a base64 request, and serves CRLs as DER', async () => {
    const work = tempDir();
    const request = join(work, 'req.der');
    assert.equal(openssl(['ocsp', '-issuer', join(db, 'certs/ca.crt'), '-cert', join(db, 'certs/good.example.com.crt'), '-no_nonce', '-reqout', request]).status, 0);
    const encoded = encodeURIComponent(readFileSync(request).toString('base64'));
    const response = await fetch(`${url}/${encoded}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/ocsp-response');
    assert.match(response.headers.get('cache-control') ?? '', /max-age=\d+/);
    writeFileSync(join(work, 'resp.der'), Buffer.from(await response.arrayBuffer()));
    const checked = openssl(['ocsp', '-respin', join(work, 'resp.der'), '-issuer', join(db, 'certs/ca.crt'), '-cert', join(db, 'certs/good.example.com.crt'), '-CAfile', join(db, 'certs/root-ca.crt')]);
    assert.match(checked.stdout, /good\.example\.com\.crt: good\n/);
    assert.match(checked.stderr, /Response verify OK/);

    for (const issuer of ['ca', 'root-ca']) {
      const crl = await fetch(`http://127.0.0.1:${port}/crl/${issuer}.crl`);
      assert.equal(crl.status, 200);
      assert.equal(crl.headers.get('content-type'), 'application/pkix-crl');
      const der = Buffer.from(await crl.arrayBuffer());
      assert.equal(openssl(['crl', '-in', join(db, `crl/${issuer}.crl`), '-outform', 'DER', '-out', join(work, `${issuer}.expected.der`)]).status, 0);
      assert.deepEqual(der, readFileSync(join(work, `${issuer}.expected.der`)));
      writeFileSync(join(work, `${issuer}.der`), der);
      const verified = openssl(['crl', '-inform', 'DER', '-in', join(work, `${issuer}.der`), '-noout', '-CAfile', join(db, `certs/${issuer}.crt`)]);
      assert.match(verified.stderr + verified.stdout, /verify OK/);
    }
  });

  it('answers bad requests with 400 or 404 and keeps serving', async () => {
    const base = `http://127.0.0.1:${port}`;
    const bad: [string, RequestInit, number][] = [
      [`${base}/ocsp`, { method: 'POST', body: 'garbage', headers: { 'Content-Type': 'application/ocsp-request' } }, 400],
      [`${base}/ocsp`, { method: 'POST', body: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]) }, 400],
      [`${base}/ocsp/%%%`, {}, 400],
      [`${base}/ocsp/not-base64-at-all`, {}, 400],
      [`${base}/ocsp`, { method: 'POST', body: new Uint8Array(100_000) }, 413],
      [`${base}/crl/nobody.crl`, {}, 404],
      [`${base}/crl/..%2Fcertified.json.crl`, {}, 404],
      [`${base}/ocsp`, { method: 'DELETE' }, 405],
    ];
    for (const [target, init, status] of bad) {
      const response = await fetch(target, init);
      assert.equal(response.status, status, `${init.method ?? 'GET'} ${target}`);
      await response.arrayBuffer();
    }
    const raw = tool('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--path-as-is', `${base}/crl/../certified.json.crl`]);
    assert.equal(raw.stdout, '404');
    assert.match(ocsp('good.example.com').stdout, /: good\n/, 'still serving');
    assert.equal(served.child.exitCode, null);
  });

  it('lets nginx staple its OCSP responses (ssl_stapling)', async () => {
    const work = tempDir('certified-nginx-');
    const tlsPort = await freePort();
    writeFileSync(join(work, 'trusted.pem'), readFileSync(join(db, 'certs/ca.crt'), 'utf8') + readFileSync(join(db, 'certs/root-ca.crt'), 'utf8'));
    await withNginx(
      work,
      `    listen 127.0.0.1:${tlsPort} ssl;
    ssl_certificate ${db}/certs/good.example.com.chain.crt;
    ssl_certificate_key ${db}/private/good.example.com.key;
    ssl_stapling on;
    ssl_stapling_verify on;
    ssl_trusted_certificate ${work}/trusted.pem;
    location / { return 200 "ok\\n"; }`,
      async () => {
        let status = '';
        // nginx fetches the OCSP response on the first handshake and staples it from then on.
        for (let attempt = 0; attempt < 40 && !/OCSP Response Status: successful/.test(status); attempt++) {
          await sleep(250);
          status = tool('openssl', ['s_client', '-connect', `127.0.0.1:${tlsPort}`, '-servername', 'good.example.com', '-status', '-CAfile', join(db, 'certs/root-ca.crt'), '-verify_return_error'], { input: '' }).stdout;
        }
        assert.match(status, /OCSP Response Status: successful \(0x0\)/, readFileSync(join(work, 'error.log'), 'utf8'));
        assert.match(status, /Cert Status: good/);
        assert.match(status, /Verify return code: 0 \(ok\)/);
        assert.match(served.stderr(), /POST \/ocsp 200 OCSP ca [0-9a-f]+ good/);
      },
    );
  });

  it('stops gracefully on SIGTERM', async () => {
    served.child.kill('SIGTERM');
    assert.equal(await served.exit, 0);
    assert.match(served.stderr(), /Received SIGTERM: finishing open requests, then stopping\.\nStopped\.\n$/);
  });

  it('refuses a bad --listen and a CA whose keys it cannot use', async () => {
    const bad = await run(['serve', '--listen', 'nowhere'], { cwd });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^certified: --listen must be host:port, got "nowhere"\. Write it like --listen 127\.0\.0\.1:8080/);
    const locked = tempDir();
    await makeCa(locked, ['--intermediate-password', 'intermediate password']);
    const noPassword = await run(['serve', '--listen', '127.0.0.1:0'], { cwd: locked });
    assert.equal(noPassword.code, 1);
    assert.match(noPassword.stderr, /^certified: the intermediate key needs a password and none was given\. Pass --ca-password -/);
    const none = await run(['serve'], { cwd: tempDir() });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^certified: there is no CA in/);
  });
});
