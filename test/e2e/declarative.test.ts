import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BIN, baseEnv, commitCount, git, makeCa, openssl, run, snapshot, tempDir } from '../helpers/cli.js';

interface Record {
  name: string;
  serial: string;
  issuer: string;
  sans: string[];
  status: string;
  managed?: boolean;
  fingerprint: string;
  revocation?: { reason: string };
}

function records(ca: string): Record[] {
  const dir = join(ca, 'records');
  return readdirSync(dir).flatMap((issuer) =>
    readdirSync(join(dir, issuer)).map((file) => JSON.parse(readFileSync(join(dir, issuer, file), 'utf8')) as Record),
  );
}

const valid = (ca: string, name: string) => records(ca).filter((r) => r.name === name && r.status === 'valid');

function writeManifest(ca: string, text: string): void {
  writeFileSync(join(ca, 'certificates.yaml'), text);
  git(ca, ['add', 'certificates.yaml']);
  git(ca, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'Edit certificates.yaml']);
}

function verify(ca: string, name: string, untrusted: string[] = ['ca']): string {
  const args = ['verify', '-x509_strict', '-CAfile', join(ca, 'certs/root-ca.crt')];
  for (const issuer of untrusted) args.push('-untrusted', join(ca, `certs/${issuer}.crt`));
  const result = openssl([...args, join(ca, `certs/${name}.crt`)]);
  return `${result.stdout}${result.stderr}`;
}

/** A busy machine (the suite runs in parallel) can make an apply take over a minute. */
const SLOW = { timeoutMs: 300_000 };

const MANIFEST = `defaults: { days: 365, key: ecdsa }
certificates:
  web:      { cn: web.internal.example.com, san: [api.internal.example.com, 10.0.0.5], profile: server }
  alice:    { cn: alice, san: [alice@example.com], profile: client, days: 90 }
  build-ca: { cn: Build CA, ca: true, issuer: ca, days: 3650 }
  builder:  { cn: builder.internal.example.com, issuer: build-ca }
renew_before: 30d
`;

describe('certified plan and apply', () => {
  const cwd = tempDir();
  const ca = join(cwd, 'etc/ssl');
  const cli = (args: string[]) => run(args, { cwd, ...SLOW });

  test('a manifest applied from scratch', async () => {
    await makeCa(cwd);
    await cli(['CN=hand.example.com']);
    writeManifest(ca, MANIFEST);
    const plan = await cli(['plan']);
    assert.equal(plan.code, 2, plan.stderr);
    assert.deepEqual(plan.stdout.trim().split('\n'), [
      '+ issue build-ca (ca, ECDSA P-384, 3650 days, issuer ca)',
      '+ issue web (server, ECDSA P-256, 365 days, issuer ca: DNS:web.internal.example.com, DNS:api.internal.example.com, IP Address:10.0.0.5)',
      '+ issue alice (client, ECDSA P-256, 90 days, issuer ca: email:alice@example.com)',
      '+ issue builder (both, ECDSA P-256, 365 days, issuer build-ca: DNS:builder.internal.example.com)',
    ]);
    const json = JSON.parse((await cli(['plan', '--json'])).stdout) as { changes: number; actions: { action: string; name: string }[] };
    assert.equal(json.changes, 4);
    assert.deepEqual(json.actions.map((a) => `${a.action} ${a.name}`), ['issue build-ca', 'issue web', 'issue alice', 'issue builder']);

    const before = snapshot(cwd);
    const refused = await cli(['apply']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /certified: apply needs a confirmation and stdin or stderr is not a terminal\. .*--yes/);
    assert.deepEqual(snapshot(cwd), before, 'apply without --yes on a pipe writes nothing');

    const commits = commitCount(ca);
    const applied = await cli(['apply', '--yes']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(commitCount(ca), commits + 1, 'the whole plan is one commit');
    assert.equal(git(ca, ['log', '-1', '--format=%s']).trim(), 'Apply certificates.yaml: 4 issued');
    assert.equal(git(ca, ['status', '--porcelain']), '');
    for (const name of ['web', 'alice']) assert.match(verify(ca, name), /: OK/);
    assert.match(verify(ca, 'build-ca'), /: OK/);
    assert.match(verify(ca, 'builder', ['ca', 'build-ca']), /: OK/);
    const san = openssl(['x509', '-in', join(ca, 'certs/web.crt'), '-noout', '-ext', 'subjectAltName,extendedKeyUsage']).stdout;
    assert.match(san, /DNS:web\.internal\.example\.com, DNS:api\.internal\.example\.com, IP Address:10\.0\.0\.5/);
    assert.match(san, /TLS Web Server Authentication\n/);
    for (const name of ['web', 'alice', 'build-ca', 'builder']) assert.equal(valid(ca, name)[0]?.managed, true, name);
    assert.equal(valid(ca, 'hand.example.com')[0]?.managed, undefined, 'hand-issued certificates are not managed');
    const listed = await cli(['ls']);
    const statusOf = (name: string) => listed.stdout.split('\n').find((line) => line.startsWith(`${name} `))?.trim().split(/\s{2,}/).pop();
    assert.equal(statusOf('web'), 'valid (manifest)');
    assert.equal(statusOf('hand.example.com'), 'valid');
    const listedJson = JSON.parse((await cli(['ls', '--json'])).stdout) as { name: string; managed?: boolean }[];
    assert.equal(listedJson.find((entry) => entry.name === 'web')?.managed, true);
    assert.equal(listedJson.find((entry) => entry.name === 'hand.example.com')?.managed, undefined);

    const again = await cli(['plan']);
    assert.equal(again.code, 0);
    assert.equal(again.stdout, '');
    assert.match(again.stderr, /Nothing to do: the CA matches certificates\.yaml \(4 certificates\)/);
  });

  test('an added SAN reissues the certificate and revokes the old one as superseded', async () => {
    const old = valid(ca, 'web')[0]!;
    writeManifest(ca, MANIFEST.replace('10.0.0.5]', '10.0.0.5, new.internal.example.com]'));
    const plan = await cli(['plan']);
    assert.equal(plan.code, 2);
    assert.equal(plan.stdout, '~ reissue web (SAN added: DNS:new.internal.example.com)\n');
    const applied = await cli(['apply', '--yes']);
    assert.equal(applied.code, 0, applied.stderr);
    const current = valid(ca, 'web');
    assert.equal(current.length, 1);
    assert.ok(current[0]!.sans.includes('DNS:new.internal.example.com'));
    const revoked = records(ca).find((r) => r.serial === old.serial)!;
    assert.equal(revoked.status, 'revoked');
    assert.equal(revoked.revocation?.reason, 'superseded');
    const crl = openssl(['crl', '-in', join(ca, 'crl/ca.crl'), '-noout', '-text']).stdout;
    assert.match(crl, new RegExp(`Serial Number: ${old.serial.toUpperCase()}[\\s\\S]*?Superseded`));
    const chain = join(cwd, 'chain.pem');
    writeFileSync(chain, readFileSync(join(ca, 'certs/root-ca.crt'), 'utf8') + readFileSync(join(ca, 'certs/ca.crt'), 'utf8'));
    const crls = join(cwd, 'crls.pem');
    writeFileSync(crls, readFileSync(join(ca, 'crl/root-ca.crl'), 'utf8') + readFileSync(join(ca, 'crl/ca.crl'), 'utf8'));
    const checkNew = openssl(['verify', '-crl_check_all', '-CAfile', chain, '-CRLfile', crls, join(ca, 'certs/web.crt')]);
    assert.match(checkNew.stdout, /: OK/, checkNew.stderr);
    const oldFile = join(ca, `revoked/web-${old.serial}/web.crt`);
    const checkOld = openssl(['verify', '-crl_check_all', '-CAfile', chain, '-CRLfile', crls, oldFile]);
    assert.match(checkOld.stderr + checkOld.stdout, /certificate revoked/);
    assert.equal(git(ca, ['status', '--porcelain']), '');
    assert.equal((await cli(['plan'])).code, 0);
  });

  test('a removed entry is revoked only with --allow-revoke', async () => {
    const alice = valid(ca, 'alice')[0]!;
    writeManifest(ca, MANIFEST.replace(/^ {2}alice:.*\n/m, '').replace('10.0.0.5]', '10.0.0.5, new.internal.example.com]'));
    const plan = await cli(['plan']);
    assert.equal(plan.code, 2);
    assert.equal(plan.stdout, `- revoke alice (removed from manifest; serial ${alice.serial}, expires ${plan.stdout.match(/expires (\S+)\)/)?.[1]})\n`);
    const before = snapshot(cwd);
    const refused = await cli(['apply', '--yes']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /certified: the plan revokes 1 certificate removed from certificates\.yaml \(alice\)\. Nothing was changed\. .*--allow-revoke/);
    assert.deepEqual(snapshot(cwd), before);
    const applied = await cli(['apply', '--yes', '--allow-revoke']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(valid(ca, 'alice').length, 0);
    assert.equal(records(ca).find((r) => r.serial === alice.serial)?.revocation?.reason, 'cessationOfOperation');
    assert.ok(!existsSync(join(ca, 'certs/alice.crt')));
    assert.match(openssl(['crl', '-in', join(ca, 'crl/ca.crl'), '-noout', '-text']).stdout, new RegExp(alice.serial.toUpperCase()));
    assert.equal(valid(ca, 'hand.example.com').length, 1, 'the hand-issued certificate is left alone');
    assert.equal(git(ca, ['status', '--porcelain']), '');
  });

  test('a longer renew_before makes certificates due; --commit-each commits each renewal', async () => {
    writeManifest(ca, MANIFEST.replace(/^ {2}alice:.*\n/m, '').replace('10.0.0.5]', '10.0.0.5, new.internal.example.com]').replace('30d', '400d'));
    const plan = await cli(['plan']);
    assert.equal(plan.code, 2);
    assert.equal(plan.stdout, '~ renew web (expires in 364 days)\n~ renew builder (expires in 364 days)\n');
    const commits = commitCount(ca);
    const applied = await cli(['apply', '--yes', '--commit-each']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(commitCount(ca), commits + 2);
    assert.deepEqual(git(ca, ['log', '-2', '--format=%s']).trim().split('\n').map((s) => s.replace(/ \(.*/, '')), ['Renew builder', 'Renew web']);
    assert.match(verify(ca, 'builder', ['ca', 'build-ca']), /: OK/);
  });

  test('a malformed manifest is refused with its line, and nothing is written', async () => {
    const cases: [string, RegExp][] = [
      ['certificates:\n  web: { cn: web.example.com }\n  bad: { cn: bad.example.com, san: [ok.example.com,\n    "bad..x"] }\n', /^certified: certificates\.yaml:4: san "bad\.\.x" is not a valid DNS name/],
      ['certificates:\n  web: { cn: web.example.com, colour: blue }\n', /^certified: certificates\.yaml:2: unknown key "colour" in "web"\. Use cn, san/],
      ['certificates:\n  web: { cn: web.example.com, profile: mail }\n', /^certified: certificates\.yaml:2: profile must be server, client or both, got "mail"/],
      ['defaults: { days: 365 }\nrenew_before: soon\ncertificates: {}\n', /^certified: certificates\.yaml:2: renew_before must be a number of days like "30d", got "soon"/],
      ['certificates:\n  web: { cn: web.example.com\n  db: {}\n', /^certified: certificates\.yaml:\d+: it is not valid YAML: /],
      ['certificates:\n  Web/../x: { cn: x }\n', /^certified: certificates\.yaml:2: certificate name "Web\/\.\.\/x" cannot be used as a file name/],
      ['certificates:\n  web: { cn: web.example.com, days: -1 }\n', /^certified: certificates\.yaml:2: days must be a whole number of days from 1 to 36500, got "-1"/],
      ['certificates:\n  web: { cn: web.example.com }\n  web: { cn: web2.example.com }\n', /^certified: certificates\.yaml:3: it is not valid YAML: Map keys must be unique/],
    ];
    for (const [text, expected] of cases) {
      writeFileSync(join(ca, 'certificates.yaml'), text);
      const before = snapshot(cwd);
      for (const args of [['plan'], ['apply', '--yes', '--allow-revoke']]) {
        const result = await cli(args);
        assert.equal(result.code, 1, `${args[0]} ${text}`);
        assert.match(result.stderr, expected);
        assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
        assert.deepEqual(snapshot(cwd), before);
      }
    }
    git(ca, ['checkout', '--', 'certificates.yaml']);
  });
});

// Large enough that apply spends a while writing.
const COUNT = 100;

describe('an apply killed in the middle', () => {
  test('is rolled back by the next command, and the next apply finishes the job', async () => {
    const cwd = tempDir();
    const ca = join(cwd, 'etc/ssl');
    await makeCa(cwd);
    const lines = ['certificates:'];
    for (let i = 0; i < COUNT; i++) lines.push(`  host-${i}: { cn: host-${i}.example.com, profile: server }`);
    writeManifest(ca, `${lines.join('\n')}\n`);
    const commits = commitCount(ca);

    // Kill it once it has started writing: the journal exists from the first write to the commit.
    const child = spawn(process.execPath, [BIN, 'apply', '--yes'], { cwd, env: baseEnv(), stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const journal = join(ca, '.certified.journal');
    let killed = false;
    while (child.exitCode === null && !killed) {
      if (existsSync(journal)) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        killed = child.kill('SIGKILL');
      } else {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    await exited;
    assert.ok(killed, 'apply was killed while writing');
    assert.ok(existsSync(journal), 'it died with the journal in place');
    assert.equal(commitCount(ca), commits);

    const plan = await run(['plan'], { cwd, ...SLOW });
    assert.equal(plan.code, 2, plan.stderr);
    assert.ok(plan.stderr.includes(`an earlier command was interrupted ("Apply certificates.yaml: ${COUNT} issued"): it has been rolled back`), plan.stderr);
    assert.equal(plan.stdout.trim().split('\n').length, COUNT);
    assert.equal(git(ca, ['status', '--porcelain']), '');
    assert.equal(records(ca).filter((r) => r.issuer === 'ca').length, 0);

    const applied = await run(['apply', '--yes'], { cwd, ...SLOW });
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(commitCount(ca), commits + 1);
    assert.equal(git(ca, ['status', '--porcelain']), '');
    const issued = records(ca).filter((r) => r.issuer === 'ca');
    assert.equal(issued.length, COUNT);
    for (const record of issued) {
      // Node's X509Certificate is OpenSSL underneath; one process instead of an openssl run per certificate.
      const certificate = new X509Certificate(readFileSync(join(ca, `certs/${record.name}.crt`)));
      assert.equal(certificate.fingerprint256, record.fingerprint, record.name);
    }
    assert.match(verify(ca, `host-${COUNT - 1}`), /: OK/);
    assert.equal((await run(['plan'], { cwd, ...SLOW })).code, 0);
  });
});
