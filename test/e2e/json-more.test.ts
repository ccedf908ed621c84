import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { BIN, type RunResult, baseEnv, freshCa, git, makeCa, openssl, run, tempDir } from '../helpers/cli.js';
import { CERTIFICATE_KEYS, CHANGE_KEYS, CRL_KEYS, certificateOnDisk, crlOnDisk, documentOf, headOf, jsonError, type Crl, type Document } from '../helpers/json.js';

/**
 * `--json` of crl, apply, export, trust, acme eab, yaml, git-setup and serve (docs/json.md): the
 * exact keys, the fields against the files (OpenSSL) and the commit (git), refusals as JSON errors.
 */

/** The error message of a refusal under --json (see jsonError). */
function refusal(result: RunResult, code: string, exitCode = 1): string {
  return jsonError(result, code, exitCode).message;
}

const sorted = (keys: string[]) => [...keys].sort();
function writeManifest(db: string, text: string): void {
  writeFileSync(join(db, 'certificates.yaml'), text);
  git(db, ['add', 'certificates.yaml']);
  git(db, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'Edit certificates.yaml']);
}

describe('--json of crl', () => {
  let cwd: string;
  let db: string;
  before(async () => ({ cwd, db } = await freshCa()));

  it('lists each CRL signed as the file has it, and the commit', async () => {
    const document = documentOf(await run(['crl', '--json'], { cwd }));
    assert.deepEqual(sorted(Object.keys(document)), sorted([...CHANGE_KEYS, 'crls', 'skipped', 'stagedForMerge']));
    assert.equal(document.action, 'crl');
    assert.equal(document.commit, headOf(db));
    assert.equal(document.stagedForMerge, false);
    // The root key is encrypted and no password was given: its CRL is skipped, not refused.
    assert.deepEqual(document.skipped, [{ issuer: 'root-ca', reason: 'no-password' }]);
    const crls = document.crls as Crl[];
    assert.deepEqual(crls.map((crl) => crl.issuer), ['ca']);
    for (const crl of crls) {
      assert.deepEqual(Object.keys(crl), CRL_KEYS);
      assert.equal(crl.file, join(db, 'crl/ca.crl'));
      assert.deepEqual({ number: crl.number, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate }, crlOnDisk(crl.file));
    }
    assert.deepEqual(document.files, [join(db, 'crl/ca.crl')]);
    assert.equal(git(db, ['show', '--format=', '--name-only', 'HEAD']), 'crl/ca.crl\n');
  });

  it('plans under --dry-run and refuses an unknown issuer as a JSON error', async () => {
    const before = headOf(db);
    const plan = documentOf(await run(['crl', '--dry-run', '--json'], { cwd }));
    assert.equal(plan.action, 'crl');
    assert.equal(plan.dryRun, true);
    assert.deepEqual(plan.files, [join(db, 'crl/ca.crl')]);
    assert.equal(headOf(db), before);
    refusal(await run(['crl', '--issuer', 'nobody', '--json'], { cwd }), 'NO_ISSUER');
  });
});

describe('--json of apply', () => {
  let cwd: string;
  let db: string;
  before(async () => ({ cwd, db } = await freshCa()));

  it('lists each certificate issued with the action and reason plan gave it', async () => {
    writeManifest(db, 'certificates:\n  api: { cn: api.example.com, san: [10.0.0.5] }\n  bob: { cn: bob, profile: client }\n');
    const plan = JSON.parse((await run(['plan', '--json'], { cwd })).stdout) as { actions: { action: string; name: string; reason: string }[] };
    const document = documentOf(await run(['apply', '--yes', '--json'], { cwd }));
    assert.deepEqual(sorted(Object.keys(document)), sorted([...CHANGE_KEYS, 'applied', 'certificates', 'crls', 'unchanged', 'commits']));
    assert.equal(document.action, 'apply');
    assert.equal(document.applied, true);
    assert.equal(document.commit, headOf(db));
    assert.deepEqual(document.commits, [headOf(db)]);
    assert.deepEqual(document.crls, []);
    assert.equal(document.unchanged, 0);
    const certificates = document.certificates as Document[];
    assert.deepEqual(
      certificates.map((c) => ({ action: c.action, name: c.name, reason: c.reason })),
      plan.actions.map((a) => ({ action: a.action, name: a.name, reason: a.reason })),
    );
    for (const certificate of certificates) {
      assert.deepEqual(sorted(Object.keys(certificate)), sorted([...CERTIFICATE_KEYS, 'managed', 'action', 'reason', 'replaced']));
      assert.equal(certificate.status, 'valid');
      assert.equal(certificate.replaced, null);
      const file = join(db, `certs/${certificate.name as string}.crt`);
      assert.ok((document.files as string[]).includes(file));
      assert.deepEqual(certificateOnDisk(file), { serial: certificate.serial, fingerprint: certificate.fingerprint, notBefore: certificate.notBefore, notAfter: certificate.notAfter });
    }
    for (const file of document.files as string[]) assert.ok(existsSync(file), `${file} exists`);
  });

  it('shows a reissue with the certificate it replaced, a revoke with its revocation, the CRL and every commit', async () => {
    const old = certificateOnDisk(join(db, 'certs/api.crt'));
    const bob = certificateOnDisk(join(db, 'certs/bob.crt'));
    writeManifest(db, 'certificates:\n  api: { cn: api.example.com, san: [10.0.0.6] }\n');
    const document = documentOf(await run(['apply', '--yes', '--allow-revoke', '--commit-each', '--json'], { cwd }));
    const [reissued, revoked] = document.certificates as Document[];
    assert.equal(reissued?.action, 'reissue');
    assert.deepEqual(certificateOnDisk(join(db, 'certs/api.crt')).serial, reissued?.serial);
    assert.deepEqual(Object.keys(reissued?.replaced as object), ['serial', 'notAfter', 'issuer']);
    assert.equal((reissued?.replaced as { serial: string }).serial, old.serial);
    assert.equal(revoked?.action, 'revoke');
    assert.equal(revoked?.name, 'bob');
    assert.equal(revoked?.serial, bob.serial);
    assert.equal(revoked?.status, 'revoked');
    assert.equal((revoked?.revocation as { reason: string }).reason, 'cessationOfOperation');
    assert.equal(revoked?.replaced, null);

    assert.deepEqual(document.commits, git(db, ['rev-list', '-2', '--reverse', 'HEAD']).trim().split('\n'));
    assert.equal(document.commit, headOf(db));
    const crls = document.crls as Crl[];
    assert.deepEqual(crls.map((crl) => [crl.issuer, crl.file]), [['ca', join(db, 'crl/ca.crl')]]);
    assert.deepEqual({ number: crls[0]?.number, thisUpdate: crls[0]?.thisUpdate, nextUpdate: crls[0]?.nextUpdate }, crlOnDisk(join(db, 'crl/ca.crl')));
    const listed = openssl(['crl', '-in', join(db, 'crl/ca.crl'), '-noout', '-text']).stdout.toLowerCase().replace(/[^0-9a-f\n]/g, '');
    for (const serial of [old.serial, bob.serial]) assert.ok(listed.includes(serial), `${serial} is in the CRL`);
  });

  it("lists a new sub-CA's first CRL among the CRLs it signed", async () => {
    const other = tempDir();
    const otherDb = join(other, 'etc/ssl');
    await makeCa(other);
    writeManifest(otherDb, 'certificates:\n  team-ca: { cn: Team CA, ca: true }\n  build: { cn: build.example.com, issuer: team-ca }\n');
    const document = documentOf(await run(['apply', '--yes', '--json'], { cwd: other }));
    const [crl, ...more] = document.crls as Crl[];
    assert.deepEqual(more, []);
    assert.deepEqual(sorted(Object.keys(crl!)), sorted(CRL_KEYS));
    assert.equal(crl!.issuer, 'team-ca');
    assert.equal(crl!.file, join(otherDb, 'crl/team-ca.crl'));
    assert.deepEqual({ number: crl!.number, thisUpdate: crl!.thisUpdate, nextUpdate: crl!.nextUpdate }, crlOnDisk(crl!.file));
    assert.ok((document.files as string[]).includes(crl!.file));
    assert.deepEqual(document.warnings, [], 'the leaf cut to its sub-CA by a moment is no news');
  });

  it('reports nothing applied when there is nothing to do, and refusals as JSON errors', async () => {
    const document = documentOf(await run(['apply', '--yes', '--json'], { cwd }));
    assert.equal(document.applied, false);
    assert.deepEqual([document.certificates, document.files, document.commit, document.commits], [[], [], null, []]);
    assert.equal(document.unchanged, 1);

    const applied = headOf(db);
    writeManifest(db, 'certificates:\n  api: { cn: api.example.com, san: [10.0.0.6] }\n  web: { cn: web.example.com }\n');
    refusal(await run(['apply', '--json'], { cwd }), 'CONFIRM');
    writeManifest(db, 'certificates:\n  web: { cn: web.example.com }\n');
    assert.match(refusal(await run(['apply', '--yes', '--json'], { cwd }), 'REVOKE_NOT_ALLOWED'), /api/);
    assert.equal(git(db, ['rev-list', '--count', `${applied}..HEAD`]).trim(), '2', 'only the two manifest edits');
  });
});

describe('--json of export, trust, acme eab, yaml and git-setup', () => {
  let cwd: string;
  let db: string;
  before(async () => {
    ({ cwd, db } = await freshCa());
    assert.equal((await run(['CN=web.example.com'], { cwd })).code, 0);
  });

  it('export: the certificate, the file written and its format, no commit', async () => {
    const before = headOf(db);
    const out = join(cwd, 'web.p12');
    const document = documentOf(await run(['export', 'web.example.com', '--p12', '--p12-password', 'p12 password', '--out', 'web.p12', '--json'], { cwd }));
    assert.deepEqual(sorted(Object.keys(document)), sorted([...CHANGE_KEYS, ...CERTIFICATE_KEYS, 'format', 'file', 'certificateCount']));
    assert.equal(document.action, 'export');
    assert.deepEqual([document.format, document.file, document.files, document.commit, document.certificateCount], ['pkcs12', out, [out], null, 2]);
    assert.equal((document.warnings as string[]).length, 1);
    assert.equal(headOf(db), before);
    const inside = openssl(['pkcs12', '-in', out, '-nokeys', '-clcerts', '-passin', 'pass:p12 password']);
    assert.equal(inside.status, 0, inside.stderr);
    const fromP12 = certificateOnDisk(writeTemp(inside.stdout));
    assert.deepEqual(fromP12, { serial: document.serial, fingerprint: document.fingerprint, notBefore: document.notBefore, notAfter: document.notAfter });

    refusal(await run(['export', 'web.example.com', '--p12', '--p12-password', 'p12 password', '--out', 'web.p12', '--json'], { cwd }), 'INVALID_INPUT');
    refusal(await run(['export', 'nobody', '--p12', '--p12-password', 'p12 password', '--json'], { cwd }), 'NOT_FOUND');
  });

  it('trust: the stores changed, installed and removed again', async () => {
    const root = tempDir('certified-root-');
    mkdirSync(join(root, 'usr/local/share/ca-certificates'), { recursive: true });
    const anchor = join(root, 'usr/local/share/ca-certificates/certified-example-ca.crt');
    const installed = documentOf(await run(['trust', '--system', '--root', root, '--json'], { cwd }));
    assert.deepEqual(sorted(Object.keys(installed)), sorted([...CHANGE_KEYS, 'uninstall', 'root', 'alsoRoots', 'stores', 'manualCommands']));
    assert.equal(installed.action, 'trust');
    assert.equal(installed.uninstall, false);
    assert.deepEqual(installed.root, { cn: 'Example CA', fingerprint: certificateOnDisk(join(db, 'certs/root-ca.crt')).fingerprint });
    const [store] = installed.stores as Document[];
    assert.deepEqual(Object.keys(store ?? {}), ['store', 'location', 'outcome', 'changed', 'detail']);
    assert.deepEqual([store?.store, store?.location, store?.outcome, store?.changed], ['system', anchor, 'installed', true]);
    assert.deepEqual([installed.files, installed.commit, installed.manualCommands], [[anchor], null, []]);
    assert.equal(readFileSync(anchor, 'utf8'), readFileSync(join(db, 'certs/root-ca.crt'), 'utf8'));

    const again = documentOf(await run(['trust', '--system', '--root', root, '--json'], { cwd }));
    assert.deepEqual([(again.stores as Document[])[0]?.outcome, (again.stores as Document[])[0]?.changed, again.files], ['already trusted', false, []]);
    const removed = documentOf(await run(['trust', '--system', '--root', root, '--uninstall', '--json'], { cwd }));
    assert.deepEqual([removed.uninstall, (removed.stores as Document[])[0]?.outcome, removed.files], [true, 'removed', [anchor]]);
    assert.equal(existsSync(anchor), false);

    refusal(await run(['trust', '--system', '--root', tempDir('certified-empty-'), '--json'], { cwd }), 'TRUST_STORE');
  });

  it('trust: on macOS the commands to run are in the document, not beside it', async () => {
    const document = documentOf(await run(['trust', '--system', '--json'], { cwd, env: { CERTIFIED_TRUST_PLATFORM: 'darwin' } }));
    assert.deepEqual([document.stores, document.files], [[], []]);
    assert.match((document.manualCommands as string[]).join('\n'), /security add-trusted-cert/);
  });

  it('acme eab: the keys it always printed, then the change keys', async () => {
    const document = documentOf(await run(['acme', 'eab', '--name', 'ci', '--json'], { cwd }));
    assert.deepEqual(Object.keys(document), ['kid', 'hmacKey', 'name', 'path', 'commit', 'action', 'files', 'warnings']);
    assert.equal(document.action, 'acme-eab');
    assert.equal(document.commit, headOf(db));
    assert.deepEqual(document.files, [join(db, document.path as string)]);
    assert.equal((JSON.parse(readFileSync(join(db, document.path as string), 'utf8')) as { kid: string }).kid, document.kid);
    refusal(await run(['acme', 'nope', '--json'], { cwd }), 'USAGE', 2);
  });

  it('yaml: the Hiera entries as one object', async () => {
    const document = documentOf(await run(['yaml', '--json'], { cwd }));
    assert.deepEqual(Object.keys(document), ['entries', 'skipped']);
    const entries = document.entries as Record<string, string>;
    assert.equal(entries['web.example.com.crt'], readFileSync(join(db, 'certs/web.example.com.crt'), 'utf8'));
    assert.equal(entries['web.example.com.key'], readFileSync(join(db, 'private/web.example.com.key'), 'utf8'));
    assert.deepEqual(document.skipped, []);
    refusal(await run(['yaml', '--json'], { cwd: tempDir() }), 'NO_CA');
  });

  it('git-setup: the clone set up, the drivers, and no commit when .gitattributes was complete', async () => {
    const before = headOf(db);
    const document = documentOf(await run(['git-setup', '--json'], { cwd }));
    assert.deepEqual(sorted(Object.keys(document)), sorted([...CHANGE_KEYS, 'repository', 'drivers']));
    assert.deepEqual([document.action, document.repository, document.files, document.commit], ['git-setup', db, [], null]);
    const drivers = document.drivers as { textconv: string; mergeCrl: string };
    assert.equal(git(db, ['config', 'diff.certified.textconv']).trim(), drivers.textconv);
    assert.equal(git(db, ['config', 'merge.certified-crl.driver']).trim(), drivers.mergeCrl);
    assert.equal(headOf(db), before);

    writeFileSync(join(db, '.gitattributes'), '');
    git(db, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-am', 'Empty .gitattributes']);
    const completed = documentOf(await run(['git-setup', '--json'], { cwd }));
    assert.deepEqual([completed.files, completed.commit], [[join(db, '.gitattributes')], headOf(db)]);
    refusal(await run(['git-setup', '--json'], { cwd: tempDir() }), 'NO_CA');
  });
});

/** `certified serve ARGS --json` until its first line on stdout: the document, and a way to stop it and see all it printed. */
async function serveJson(cwd: string, args: string[]): Promise<{ document: Document; stop: () => Promise<{ code: number | null; stdout: string; stderr: string }> }> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args, '--json'], { cwd, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async () => {
    child.kill('SIGTERM');
    return { code: await exit, stdout, stderr };
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => stdout.includes('\n') && resolve());
      void exit.then(() => reject(new Error(`serve stopped: ${stderr}`)));
    });
    return { document: JSON.parse(stdout) as Document, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

describe('--json of serve', () => {
  const SERVE_KEYS = ['action', 'crl', 'ocsp', 'ocspIssuers', 'acmeDirectory', 'warnings'];

  it('prints one line once listening, with the real URLs, and nothing else on stdout', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const db = join(cwd, 'etc/ssl');
    const { document, stop } = await serveJson(cwd, ['--listen', '127.0.0.1:0']);
    let stopped;
    try {
      assert.deepEqual(Object.keys(document), SERVE_KEYS);
      assert.equal(document.action, 'serve');
      assert.match(document.crl as string, /^http:\/\/127\.0\.0\.1:[1-9][0-9]*\/crl\/$/);
      assert.deepEqual([document.ocspIssuers, document.acmeDirectory, document.warnings], [['ca'], null, []]);
      const response = await fetch(`${document.crl as string}ca.crl`);
      assert.equal(response.status, 200);
      const der = Buffer.from(readFileSync(join(db, 'crl/ca.crl'), 'utf8').replace(/-----[A-Z0-9 ]+-----|\s/g, ''), 'base64');
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), der);
    } finally {
      stopped = await stop();
    }
    assert.equal(stopped.code, 0);
    assert.equal(stopped.stdout, `${JSON.stringify(document)}\n`, 'one line, then nothing');
    assert.match(stopped.stderr, /GET \/crl\/ca\.crl 200/);
  });

  it('names the ACME directory on its real port when it serves ACME', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    const db = join(cwd, 'etc/ssl');
    writeManifest(db, 'acme:\n  allow: [.example.test]\n  days: 30\n');
    const { document, stop } = await serveJson(cwd, ['--acme-listen', '127.0.0.1:0']);
    try {
      assert.deepEqual(Object.keys(document), SERVE_KEYS);
      assert.deepEqual([document.crl, document.ocsp, document.ocspIssuers], [null, null, []]);
      assert.match(document.acmeDirectory as string, /^https:\/\/127\.0\.0\.1:[1-9][0-9]*\/acme\/directory$/);
      const directory = await new Promise<string>((resolve, reject) => {
        const ca = readFileSync(join(db, 'certs/root-ca.crt'), 'utf8');
        https.get(document.acmeDirectory as string, { ca }, (res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve(body));
        }).on('error', reject);
      });
      assert.match((JSON.parse(directory) as { newNonce: string }).newNonce, /^https:\/\/127\.0\.0\.1:/);
    } finally {
      assert.equal((await stop()).code, 0);
    }
  });

  it('fails to start with a JSON error', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    refusal(await run(['serve', '--listen', 'nowhere', '--json'], { cwd }), 'INVALID_INPUT');
  });
});

/** Writes `text` to a new file and returns its path. */
function writeTemp(text: string): string {
  const file = join(tempDir(), 'file.pem');
  writeFileSync(file, text);
  return file;
}
