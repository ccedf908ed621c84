import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, ROOT_PASSWORD, baseEnv, git, makeCa, run, tempDir } from '../helpers/cli.js';
import { serialOf } from '../helpers/judge.js';
import { freePort } from '../helpers/serve.js';
import { withNginx } from '../helpers/nginx.js';

// The ACME server judged by real, unmodified clients (certbot 2.1 and lego 4.9 from Debian): each
// gets a certificate through http-01, renews it and revokes it; OpenSSL verifies the chain and the
// CRLs, nginx serves the certificate and curl accepts it, OpenSSL's OCSP client sees the
// revocation; lego also gets one through tls-alpn-01. Names below .example.test resolve to
// 127.0.0.1 through --acme-resolve, and the validations connect to the clients' standalone
// servers on --acme-http-port and --acme-tls-port.
//
// The clients' flags (certbot --help all, lego --help / lego run|renew|revoke --help):
//   certbot certonly --standalone --http-01-port P --http-01-address 127.0.0.1 --server URL -d NAME
//     --agree-tos --register-unsafely-without-email --non-interactive
//     --config-dir D --work-dir D --logs-dir D                       (REQUESTS_CA_BUNDLE = root)
//   certbot renew --force-renewal --no-random-sleep-on-renew (a hidden flag: without a terminal
//     certbot sleeps up to 8 minutes first)
//   certbot revoke --cert-path PEM --reason keycompromise --no-delete-after-revoke --server URL
//   lego --server URL --email E --accept-tos --domains NAME --http --http.port 127.0.0.1:P
//     --path D run | renew --days 365 --no-random-sleep | revoke --reason 1 --keep
//   lego ... --tls --tls.port 127.0.0.1:P ... run                     (tls-alpn-01)
//                                                                    (LEGO_CA_CERTIFICATES = root)

const ROOT_PASSWORD_ENV = { CERTIFIED_ROOT_PASSWORD: ROOT_PASSWORD };
const TOOL_TIMEOUT_MS = 120_000;

interface ToolResult {
  code: number;
  output: string;
}

/** Runs an outside program without blocking this process (the server's logs keep flowing). */
function runTool(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: baseEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), TOOL_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), output });
    });
  });
}

/** GET over HTTPS trusting only `ca`; resolves with the status, or undefined when nothing answers. */
function httpsStatus(url: string, ca: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { ca, timeout: 2_000 }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

describe('ACME with real clients: certbot and lego', () => {
  const cwd = tempDir('certified-acme-clients-');
  const db = join(cwd, 'etc/ssl');
  const root = join(db, 'certs/root-ca.crt');
  const intermediate = join(db, 'certs/ca.crt');
  let ports: { ocsp: number; acme: number; http: number; tls: number };
  let directory = '';
  let server: ChildProcess | undefined;
  let serverLog = '';
  let serverExit: Promise<number | null> = Promise.resolve(null);

  before(async () => {
    ports = { ocsp: await freePort(), acme: await freePort(), http: await freePort(), tls: await freePort() };
    directory = `https://127.0.0.1:${ports.acme}/acme/directory`;
    await makeCa(cwd, ['--ocsp-url', `http://127.0.0.1:${ports.ocsp}/ocsp`]);
    writeFileSync(join(db, 'certificates.yaml'), 'acme:\n  allow: [.example.test]\n  days: 30\n  challenges: [http-01, tls-alpn-01, dns-01]\n  eab: false\n');
    git(db, ['add', 'certificates.yaml']);
    git(db, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'Let ACME clients get names below .example.test']);

    const args = ['serve', '--listen', `127.0.0.1:${ports.ocsp}`, '--acme-listen', `127.0.0.1:${ports.acme}`, '--acme-http-port', String(ports.http), '--acme-tls-port', String(ports.tls), '--acme-resolve', '*.example.test=127.0.0.1'];
    server = spawn(process.execPath, [BIN, ...args], { cwd, env: baseEnv(ROOT_PASSWORD_ENV), stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (chunk) => (serverLog += chunk));
    server.stderr!.on('data', (chunk) => (serverLog += chunk));
    const child = server;
    serverExit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    // Ready when the directory answers over HTTPS with a certificate the CA's root vouches for.
    const ca = readFileSync(root, 'utf8');
    let status: number | undefined;
    for (let attempt = 0; attempt < 300 && status !== 200 && child.exitCode === null; attempt++) {
      status = await httpsStatus(directory, ca);
      if (status !== 200) await sleep(100);
    }
    assert.equal(status, 200, `certified serve --acme-listen did not serve ${directory}:\n${serverLog}`);
  });

  after(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      const timer = setTimeout(() => server?.kill('SIGKILL'), 10_000);
      await serverExit;
      clearTimeout(timer);
    }
  });

  /** `openssl verify` of a leaf against the root with its chain as untrusted, optionally with both CRLs. */
  async function verify(leaf: string, chain: string, crls: boolean): Promise<ToolResult> {
    const args = ['verify', '-CAfile', root, '-untrusted', chain];
    if (crls) args.push('-crl_check_all', '-CRLfile', join(db, 'crl/root-ca.crl'), '-CRLfile', join(db, 'crl/ca.crl'));
    return runTool('openssl', [...args, leaf], { cwd });
  }

  /** The certificate is committed in the CA as certs/acme-<serial>.crt, with no key beside it. */
  function assertRecorded(leaf: string): string {
    const serial = serialOf(leaf);
    const committed = join(db, `certs/acme-${serial}.crt`);
    assert.ok(existsSync(committed), `certs/acme-${serial}.crt is missing in the CA:\n${git(db, ['log', '--format=%s', '-5'])}`);
    assert.equal(new X509Certificate(readFileSync(committed)).fingerprint256, new X509Certificate(readFileSync(leaf)).fingerprint256);
    assert.equal(existsSync(join(db, `private/acme-${serial}.key`)), false);
    assert.equal(git(db, ['status', '--porcelain']), '', 'everything the server wrote is committed');
    return serial;
  }

  /** nginx serves the certificate with its chain and curl, trusting only the root, accepts it. */
  async function assertServedByNginx(name: string, fullchain: string, key: string): Promise<void> {
    const work = tempDir('certified-acme-nginx-');
    const port = await freePort();
    await withNginx(
      work,
      `    listen 127.0.0.1:${port} ssl;
    server_name ${name};
    ssl_certificate ${fullchain};
    ssl_certificate_key ${key};
    location / { return 200 "hello from ${name}\\n"; }`,
      async (nginx) => {
        const curlArgs = ['-sS', '--cacert', root, '--resolve', `${name}:${port}:127.0.0.1`, `https://${name}:${port}/`];
        let curl: ToolResult = { code: -1, output: '' };
        for (let attempt = 0; attempt < 50 && !nginx.exited(); attempt++) {
          curl = await runTool('curl', curlArgs, { cwd: work });
          if (curl.code !== 7) break; // 7: nothing listens yet
          await sleep(100);
        }
        const log = existsSync(join(work, 'error.log')) ? readFileSync(join(work, 'error.log'), 'utf8') : '';
        assert.equal(curl.code, 0, `curl: ${curl.output}\nnginx: ${log}`);
        assert.equal(curl.output, `hello from ${name}\n`);
      },
    );
  }

  /** The CRLs the server rebuilt, and its OCSP responder, both say revoked with the reason. */
  async function assertRevoked(leaf: string, chain: string): Promise<void> {
    const checked = await verify(leaf, chain, true);
    assert.notEqual(checked.code, 0, checked.output);
    assert.match(checked.output, /certificate revoked/);
    assert.equal(git(db, ['status', '--porcelain']), '', 'the revocation is committed');
    const ocsp = await runTool('openssl', ['ocsp', '-issuer', intermediate, '-cert', leaf, '-url', `http://127.0.0.1:${ports.ocsp}/ocsp`, '-CAfile', root], { cwd });
    assert.equal(ocsp.code, 0, ocsp.output);
    assert.match(ocsp.output, /: revoked\n/);
    assert.match(ocsp.output, /Reason: keyCompromise/);
  }

  describe('certbot 2.1, --standalone http-01', () => {
    const home = tempDir('certified-certbot-');
    const dirs = ['--config-dir', join(home, 'config'), '--work-dir', join(home, 'work'), '--logs-dir', join(home, 'logs')];
    const live = join(home, 'config/live/web.example.test');
    const certbot = (args: string[]) => runTool('certbot', [...args, '--non-interactive', ...dirs], { cwd: home, env: { REQUESTS_CA_BUNDLE: root } });
    let firstSerial = '';

    it('certonly gets a certificate the root verifies, valid for the 30 days of the policy, committed in the CA', async () => {
      const started = Date.now();
      const result = await certbot([
        'certonly', '--standalone', '--http-01-port', String(ports.http), '--http-01-address', '127.0.0.1',
        '--server', directory, '-d', 'web.example.test', '--agree-tos', '--register-unsafely-without-email',
      ]);
      assert.equal(result.code, 0, `${result.output}\nserver:\n${serverLog}`);
      const checked = await verify(join(live, 'cert.pem'), join(live, 'chain.pem'), true);
      assert.equal(checked.code, 0, checked.output);
      assert.match(checked.output, /: OK\n/);
      const text = (await runTool('openssl', ['x509', '-in', join(live, 'cert.pem'), '-noout', '-ext', 'subjectAltName'], { cwd })).output;
      assert.match(text, /DNS:web\.example\.test/);
      // notAfter is the moment of issuing plus `days: 30`, to the second.
      const notAfter = Date.parse(new X509Certificate(readFileSync(join(live, 'cert.pem'))).validTo);
      const days30 = 30 * 86_400_000;
      assert.ok(notAfter >= started + days30 - 1_000 && notAfter <= Date.now() + days30, `notAfter ${new Date(notAfter).toISOString()}`);
      firstSerial = assertRecorded(join(live, 'cert.pem'));
    });

    it('nginx serves it and curl accepts it', async () => {
      await assertServedByNginx('web.example.test', join(live, 'fullchain.pem'), join(live, 'privkey.pem'));
    });

    it('renew --force-renewal gets a new certificate', async () => {
      const result = await certbot(['renew', '--force-renewal', '--no-random-sleep-on-renew']);
      assert.equal(result.code, 0, `${result.output}\nserver:\n${serverLog}`);
      assert.match(result.output, /all renewals succeeded/);
      const serial = assertRecorded(join(live, 'cert.pem'));
      assert.ok(firstSerial && serial !== firstSerial, `the renewed certificate has a new serial (${firstSerial} -> ${serial})`);
      const checked = await verify(join(live, 'cert.pem'), join(live, 'chain.pem'), true);
      assert.equal(checked.code, 0, checked.output);
    });

    it('is refused a name the policy does not allow, and nothing is committed', async () => {
      const head = git(db, ['rev-parse', 'HEAD']);
      const result = await certbot([
        'certonly', '--standalone', '--http-01-port', String(ports.http), '--http-01-address', '127.0.0.1',
        '--server', directory, '-d', 'web.example.org', '--agree-tos', '--register-unsafely-without-email',
      ]);
      assert.equal(result.code, 1, result.output);
      // certbot 2.1 on Python 3.11 prints "AttributeError: can't set attribute" for every problem
      // document (a certbot bug, fixed in 2.2); the problem itself is in its log.
      const log = readFileSync(join(home, 'logs/letsencrypt.log'), 'utf8');
      assert.match(log, /"type": "urn:ietf:params:acme:error:rejectedIdentifier"/);
      assert.match(log, /"detail": "[^\n]*web\.example\.org/);
      assert.equal(git(db, ['rev-parse', 'HEAD']), head);
      assert.equal(git(db, ['status', '--porcelain']), '');
    });

    it('revoke --reason keycompromise reaches the CRL and OCSP', async () => {
      const leaf = join(home, 'revoked.pem');
      writeFileSync(leaf, readFileSync(join(live, 'cert.pem')));
      const result = await certbot(['revoke', '--cert-path', join(live, 'cert.pem'), '--reason', 'keycompromise', '--no-delete-after-revoke', '--server', directory]);
      assert.equal(result.code, 0, `${result.output}\nserver:\n${serverLog}`);
      await assertRevoked(leaf, join(live, 'chain.pem'));
    });
  });

  describe('lego 4.9, --http', () => {
    const home = tempDir('certified-lego-');
    const certificates = join(home, 'certificates');
    const leaf = join(certificates, 'api.example.test.crt');
    const issuer = join(certificates, 'api.example.test.issuer.crt');
    const lego = (command: string[], domain = 'api.example.test') =>
      runTool(
        'lego',
        ['--server', directory, '--email', 'a@example.test', '--accept-tos', '--domains', domain, '--http', '--http.port', `127.0.0.1:${ports.http}`, '--path', home, ...command],
        { cwd: home, env: { LEGO_CA_CERTIFICATES: root } },
      );
    let firstSerial = '';

    it('run gets a certificate the root verifies, committed in the CA', async () => {
      const result = await lego(['run']);
      assert.equal(result.code, 0, `${result.output}\nserver:\n${serverLog}`);
      const checked = await verify(leaf, issuer, true);
      assert.equal(checked.code, 0, checked.output);
      firstSerial = assertRecorded(leaf);
    });

    it('nginx serves it and curl accepts it', async () => {
      // lego's .crt is the bundle: the certificate, then its issuer.
      await assertServedByNginx('api.example.test', leaf, join(certificates, 'api.example.test.key'));
    });

    it('is refused a name the policy does not allow, and nothing is committed', async () => {
      const head = git(db, ['rev-parse', 'HEAD']);
      const result = await lego(['run'], 'api.example.org');
      assert.equal(result.code, 1, result.output);
      assert.match(result.output, /new-order :: urn:ietf:params:acme:error:rejectedIdentifier :: [^\n]*api\.example\.org/);
      assert.equal(git(db, ['rev-parse', 'HEAD']), head);
      assert.equal(git(db, ['status', '--porcelain']), '');
    });

    it('renew --days 365 gets a new certificate (ACME certificates last 30 days)', async () => {
      const result = await lego(['renew', '--days', '365', '--no-random-sleep']);
      assert.equal(result.code, 0, `${result.output}\nserver:\n${serverLog}`);
      const serial = assertRecorded(leaf);
      assert.ok(firstSerial && serial !== firstSerial, `the renewed certificate has a new serial (${firstSerial} -> ${serial})`);
      const checked = await verify(leaf, issuer, true);
      assert.equal(checked.code, 0, checked.output);
    });

    it('revoke --reason 1 (keyCompromise) reaches the CRL and OCSP', async () => {
      const result = await lego(['revoke', '--reason', '1', '--keep']);
      assert.equal(result.code, 0, `${result.output}\nserver:\n${serverLog}`);
      await assertRevoked(leaf, issuer);
    });
  });

  describe('lego 4.9, --tls (tls-alpn-01)', () => {
    it('run gets a certificate the root verifies, committed in the CA', async () => {
      const home = tempDir('certified-lego-tls-');
      const args = ['--server', directory, '--email', 'a@example.test', '--accept-tos', '--domains', 'tls.example.test', '--tls', '--tls.port', `127.0.0.1:${ports.tls}`, '--path', home, 'run'];
      const result = await runTool('lego', args, { cwd: home, env: { LEGO_CA_CERTIFICATES: root } });
      assert.equal(result.code, 0, `${result.output}\nserver:\n${serverLog}`);
      const leaf = join(home, 'certificates/tls.example.test.crt');
      const checked = await verify(leaf, join(home, 'certificates/tls.example.test.issuer.crt'), true);
      assert.equal(checked.code, 0, checked.output);
      assertRecorded(leaf);
    });
  });

  it('leaves a CA that check accepts, and stops on SIGTERM', async () => {
    const checked = await run(['check'], { cwd, env: ROOT_PASSWORD_ENV });
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.ok(server && server.exitCode === null, `the server still runs:\n${serverLog}`);
    server.kill('SIGTERM');
    assert.equal(await serverExit, 0, serverLog);
  });
});
