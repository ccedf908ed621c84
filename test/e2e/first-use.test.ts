import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { freshCa, openssl, run } from '../helpers/cli.js';

/** What a new user meets first: names derived from the CN, the hint after issuing, notes on key types. */

function text(db: string, name: string): string {
  return openssl(['x509', '-in', join(db, `certs/${name}.crt`), '-noout', '-text']).stdout;
}

const RSA_NOTE = "Note: the new key is ECDSA P-256 while the CA's key is RSA; use --key-type rsa for an RSA key.\n";

describe('issuing for the first time', () => {
  let cwd: string;
  let db: string;
  before(async () => ({ cwd, db } = await freshCa()));

  it('derives a file name from an IPv6 CN (colons as dashes) and puts the address in the SANs', async () => {
    for (const [cn, name, san] of [
      ['2001:db8::7', '2001-db8--7', 'IP Address:2001:DB8:0:0:0:0:0:7'],
      ['::1', '0--1', 'IP Address:0:0:0:0:0:0:0:1'],
    ] as const) {
      const result = await run([`CN=${cn}`], { cwd });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, new RegExp(`^Issued "${name}" \\(server\\+client\\) for "${cn}"\\.\\n`));
      assert.ok(existsSync(join(db, `private/${name}.key`)));
      const cert = text(db, name);
      assert.ok(cert.includes(`Subject: C = US, O = Example, CN = ${cn}\n`), cert);
      assert.ok(cert.includes(`X509v3 Subject Alternative Name: \n                ${san}\n`), cert);
      const verify = openssl(['verify', '-CAfile', join(db, 'certs/root-ca.crt'), '-untrusted', join(db, 'certs/ca.crt'), '-verify_ip', cn, join(db, `certs/${name}.crt`)]);
      assert.equal(verify.status, 0, verify.stderr);
    }
  });

  it('tells how to use a client certificate from a client, and a server certificate in a server', async () => {
    const client = await run(['--client', 'CN=bob', '+bob@example.com'], { cwd });
    assert.equal(client.code, 0, client.stderr);
    assert.match(
      client.stderr,
      /\nPresent it from the client with its key \(curl --cert "etc\/ssl\/certs\/bob\.chain\.crt" --key "etc\/ssl\/private\/bob\.key"\), or export it for a browser with "certified export bob --p12"; committed as [0-9a-f]{12}\.\n$/,
    );
    assert.doesNotMatch(client.stderr, /ssl_certificate/);
    const server = await run(['--server', 'CN=www.example.com'], { cwd });
    assert.equal(server.code, 0, server.stderr);
    assert.match(server.stderr, /\nUse the chain file for nginx's ssl_certificate and Node's "cert"; committed as [0-9a-f]{12}\.\n$/);
    assert.doesNotMatch(server.stderr + client.stderr, /Note:/, 'an ECDSA CA gives no note about key types');
  });
});

describe('issuing from an RSA CA', () => {
  let cwd: string;
  let db: string;
  before(async () => ({ cwd, db } = await freshCa(['--bits', '2048'])));

  it('notes once that the new key is ECDSA unless a key type was asked for', async () => {
    const plain = await run(['CN=plain.example.com'], { cwd });
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stderr.split('\n').filter((line) => line.startsWith('Note:')).join('\n') + '\n', RSA_NOTE);
    assert.match(text(db, 'plain.example.com'), /NIST CURVE: P-256/);
    assert.match(openssl(['x509', '-in', join(db, 'certs/ca.crt'), '-noout', '-text']).stdout, /Public-Key: \(2048 bit\)/);
    for (const [flags, name] of [
      [['--key-type', 'ecdsa'], 'ecdsa.example.com'],
      [['--key-type', 'rsa'], 'rsa.example.com'],
      [['--bits', '2048'], 'bits.example.com'],
    ] as const) {
      const result = await run([...flags, `CN=${name}`], { cwd });
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /Note:/, flags.join(' '));
    }
    assert.match(text(db, 'rsa.example.com'), /Public-Key: \(2048 bit\)/);
  });
});
