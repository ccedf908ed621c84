import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeCa, run, snapshot, tempDir } from '../helpers/cli.js';

describe('--dry-run on commands that change the CA', () => {
  it('revoke, renew and crl show what they would make and write nothing', async () => {
    const cwd = tempDir();
    await makeCa(cwd);
    assert.equal((await run(['CN=a.example.com'], { cwd })).code, 0);
    const before = snapshot(cwd);

    const revoke = await run(['--revoke', '--dry-run', '--reason', 'keyCompromise', 'CN=a.example.com'], { cwd });
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.match(revoke.stdout, /^# crl\/ca\.crl\nCRL:\n/);
    assert.match(revoke.stdout, /Revoked serial: +[0-9a-f]+ \S+ keyCompromise/);
    assert.match(revoke.stderr, /Dry run: the commit would be "Revoke a\.example\.com \(serial [0-9a-f]+, keyCompromise\)"/);
    assert.match(revoke.stderr, /move +certs\/a\.example\.com\.crt -> revoked\//);
    assert.match(revoke.stderr, /Nothing was written\.\n$/);

    const renew = await run(['renew', '--dry-run', 'CN=a.example.com'], { cwd });
    assert.equal(renew.code, 0, renew.stderr);
    assert.match(renew.stdout, /# certs\/a\.example\.com\.crt\nCertificate:/);

    const crl = await run(['crl', '--dry-run'], { cwd, env: { CERTIFIED_ROOT_PASSWORD: 'root password for tests' } });
    assert.equal(crl.code, 0, crl.stderr);
    assert.match(crl.stderr, /write +crl\/ca\.crl/);
    assert.deepEqual(snapshot(cwd), before);
  });
});
