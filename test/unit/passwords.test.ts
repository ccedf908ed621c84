import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { chooseInit } from '../../src/ca/authorities/choose-init.js';
import { initCa } from '../../src/ca/authorities/init-ca.js';
import { openCaDirectory, type CaStore } from '../../src/ca/ca-directory.js';
import { CaExistsError, PasswordError } from '../../src/ca/errors.js';
import { issueCertificate } from '../../src/ca/issuing/issue-certificate.js';
import type { AskPassword, PasswordRequest } from '../../src/ca/passwords.js';
import { chooseCrlIssuers } from '../../src/ca/revocation/generate-crl.js';
import { renderHint } from '../../src/cli/error-hints.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function newCa(intermediatePassword?: string): Promise<CaStore> {
  const dir = mkdtempSync(join(tmpdir(), 'certified-passwords-'));
  dirs.push(dir);
  const store = openCaDirectory(join(dir, 'etc/ssl'), { lockTimeoutMs: 10_000 });
  await initCa(store, {
    subject: { CN: 'Unit CA' },
    key: { type: 'ecdsa', curve: 'P-256' },
    days: 30,
    rootPassword: 'root password',
    ...(intermediatePassword ? { intermediatePassword } : {}),
    commandLine: 'certified init CN="Unit CA"',
  });
  return store;
}

/** An AskPassword that records every request and answers `answer`. */
function spy(answer: string | undefined): AskPassword & { calls: PasswordRequest[] } {
  const calls: PasswordRequest[] = [];
  return Object.assign(async (request: PasswordRequest) => {
    calls.push(request);
    return answer;
  }, { calls });
}

const leaf = (name: string) => ({
  name,
  subject: { CN: `${name}.example.com` },
  sans: [{ type: 'dns' as const, value: `${name}.example.com` }],
  profile: 'server' as const,
  key: { type: 'ecdsa' as const, curve: 'P-256' as const },
  days: 10,
  commandLine: `certified issue CN=${name}.example.com`,
});

describe('passwords go through the caller\'s callback', () => {
  it('is not called when the issuing key is not encrypted', async () => {
    const store = await newCa();
    const ask = spy('never needed');
    const result = await issueCertificate(store, { ...leaf('plain'), askPassword: ask });
    assert.equal(result.name, 'plain');
    assert.deepEqual(ask.calls, []);
  });

  it('is called once, for the CA key by role, name and path, when it is encrypted', async () => {
    const store = await newCa('intermediate password');
    const ask = spy('intermediate password');
    await issueCertificate(store, { ...leaf('locked'), askPassword: ask });
    assert.deepEqual(ask.calls, [{ role: 'ca', name: 'ca', path: 'private/ca.key' }]);
  });

  it('turns no answer into a PasswordError that carries the role, and a wrong one too', async () => {
    const store = await newCa('intermediate password');
    await assert.rejects(issueCertificate(store, { ...leaf('none'), askPassword: spy(undefined) }), (error: unknown) => {
      assert.ok(error instanceof PasswordError);
      assert.equal(error.role, 'ca');
      assert.equal(error.problem, 'missing');
      assert.equal(error.message, 'the intermediate key needs a password and none was given');
      assert.doesNotMatch(`${error.message} ${error.hint ?? ''}`, /--|CERTIFIED_/);
      return true;
    });
    await assert.rejects(issueCertificate(store, { ...leaf('wrong'), askPassword: spy('not the password') }), { role: 'ca', problem: 'wrong' });
  });

  it('resolves the issuer by CN in ca/, for every caller', async () => {
    const store = await newCa();
    const ask = spy(undefined);
    const result = await issueCertificate(store, { ...leaf('by-cn'), issuer: 'Unit CA Intermediate', askPassword: ask });
    assert.match(result.chainPem, /BEGIN CERTIFICATE/);
    assert.deepEqual(ask.calls, []);
  });
});

describe('the CLI renders password hints by role', () => {
  it('names the flag and variable of the role, and --reuse-key for a renewed key', () => {
    const missing = (role: 'root' | 'ca' | 'certificate') => renderHint(new PasswordError('x', undefined, { role, problem: 'missing' }));
    assert.equal(missing('root'), 'Pass --root-password - (one line on stdin) or set CERTIFIED_ROOT_PASSWORD.');
    assert.equal(missing('ca'), 'Pass --ca-password - (one line on stdin) or set CERTIFIED_CA_PASSWORD.');
    assert.equal(missing('certificate'), 'Pass --password - (one line on stdin) or set CERTIFIED_PASSWORD.');
    assert.equal(
      renderHint(new PasswordError('x', undefined, { role: 'certificate', problem: 'new-key' })),
      'Pass --password - (one line on stdin) or set CERTIFIED_PASSWORD, or keep the key with --reuse-key.',
    );
    assert.equal(renderHint(new PasswordError('x', 'Check it.', { role: 'ca', problem: 'wrong' })), 'Check it.');
  });
});

describe('rules decided in ca/', () => {
  it('init: a new CA, a replacement intermediate, or "a CA already exists" without asking anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'certified-passwords-'));
    dirs.push(dir);
    assert.equal(await chooseInit(openCaDirectory(join(dir, 'etc/ssl'), { lockTimeoutMs: 10_000 })), 'new-ca');
    const store = await newCa();
    await assert.rejects(chooseInit(store), CaExistsError);
  });

  it('crl: the root is skipped, as data, when its key is offline; asked for by CN otherwise', async () => {
    const store = await newCa();
    // Not asked for by name, the root's CRL is optional: skipped, not refused, when no password opens its key.
    assert.deepEqual(await chooseCrlIssuers(store), { issuers: ['ca', 'root-ca'], optional: ['root-ca'], skipped: [] });
    assert.deepEqual(await chooseCrlIssuers(store, 'Unit CA Intermediate'), { issuers: ['ca'], optional: [], skipped: [] });
    rmSync(store.path('private/root-ca.key'));
    assert.deepEqual(await chooseCrlIssuers(store), {
      issuers: ['ca'],
      optional: [],
      skipped: [{ issuer: 'root-ca', reason: 'root-key-offline', keyPath: 'private/root-ca.key' }],
    });
  });
});
