/**
 * The ACME challenge validations against real servers on loopback: node:http for http-01,
 * node:tls presenting tls-alpn-01 certificates (built with the project's builder and with
 * acme-client's), and test/helpers/dns-responder.ts for DNS. Key authorizations come from
 * acme-client, so what a real client serves is what the validator accepts.
 */
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type SecureContext, type Server as TlsServer } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import acme from 'acme-client';
import { Extension } from '@peculiar/asn1-x509';
import { OctetString } from '@peculiar/asn1-schema';
import { AcmeProblem, type AcmeIdentifier, type ChallengeType, type ValidationTargets } from '../../src/ca/acme/types.js';
import { InvalidInputError } from '../../src/ca/errors.js';
import { acmeIdentifierExtension, dnsChallengeValue, ID_PE_ACME_IDENTIFIER, keyAuthorizationDigest } from '../../src/pki/acme-challenge.js';
import { createCertificate } from '../../src/pki/certificate.js';
import { exportPrivateKey, generateKeyPair } from '../../src/pki/keys.js';
import { randomSerial } from '../../src/pki/serial.js';
import type { SubjectAltName } from '../../src/pki/types.js';
import { parseResolveRule, validateChallenge } from '../../src/serve/acme/validate.js';
import { matchResolveRule, reverseDnsName } from '../../src/serve/acme/validation/resolve.js';
import { DnsResponder } from '../helpers/dns-responder.js';

const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
const OTHER_TOKEN = 'aaaaxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wrbbb';
const dns = (value: string): AcmeIdentifier => ({ type: 'dns', value });
const ip = (value: string): AcmeIdentifier => ({ type: 'ip', value });

/** Resolves when valid; else the problem's type and detail. */
async function outcome(type: ChallengeType, identifier: AcmeIdentifier, keyAuthorization: string, targets: ValidationTargets, token = TOKEN): Promise<'valid' | { type: string; detail: string }> {
  try {
    await validateChallenge(type, identifier, token, keyAuthorization, targets);
    return 'valid';
  } catch (error) {
    assert.ok(error instanceof AcmeProblem, `not an AcmeProblem: ${String(error)}`);
    return { type: error.type, detail: error.message };
  }
}

function listening(server: HttpServer | TlsServer | ReturnType<typeof createHttpsServer> | ReturnType<typeof createNetServer>): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** A port nothing listens on: bound, read, released. */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  const port = await listening(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('ACME challenge validation', () => {
  let client: acme.Client;
  let keyAuthorization: string;
  let responder: DnsResponder;
  let http: HttpServer;
  let tls: TlsServer;
  let wrongAlpn: TlsServer;
  let silent: ReturnType<typeof createNetServer>;
  let targets: ValidationTargets;
  /** What the http server answers, by path. */
  let routes: Record<string, (request: IncomingMessage, response: ServerResponse) => void> = {};
  const hostHeaders: string[] = [];
  /** What the tls server presents, and the SNI names it saw. */
  let presented: SecureContext | undefined;
  const serverNames: string[] = [];

  before(async () => {
    client = new acme.Client({ directoryUrl: 'https://acme.invalid/directory', accountKey: await acme.crypto.createPrivateEcdsaKey() });
    keyAuthorization = await client.getChallengeKeyAuthorization({ type: 'http-01', token: TOKEN, url: '', status: 'pending' });
    responder = await DnsResponder.start();
    http = createHttpServer((request, response) => {
      hostHeaders.push(request.headers.host ?? '');
      const route = routes[request.url ?? ''];
      if (route) route(request, response);
      else response.writeHead(404).end('not found');
    });
    tls = createTlsServer({
      ALPNProtocols: ['acme-tls/1'],
      SNICallback: (name, done) => {
        serverNames.push(name);
        done(null, presented);
      },
    });
    wrongAlpn = createTlsServer({ ALPNProtocols: ['http/1.1'], SNICallback: (_name, done) => done(null, presented) });
    wrongAlpn.on('tlsClientError', () => undefined);
    tls.on('tlsClientError', () => undefined);
    // Accepts connections and never says a word.
    silent = createNetServer(() => undefined);
    const [httpPort, tlsPort] = [await listening(http), await listening(tls)];
    await listening(wrongAlpn);
    await listening(silent);
    targets = {
      httpPort,
      tlsPort,
      dnsServer: { host: responder.host, port: responder.port },
      resolve: [{ pattern: '*.example.test', address: '127.0.0.1' }],
      timeoutMs: 5000,
      // Redirects may leave the identifier's host only for names the ACME policy allows.
      redirectAllow: ['.example.test'],
    };
  });

  after(async () => {
    silent.close();
    wrongAlpn.close();
    tls.close();
    http.closeAllConnections();
    http.close();
    await responder.close();
  });

  it('has acme-client make the key authorization the way RFC 8555 8.1 says', async () => {
    const thumbprint = keyAuthorization.split('.')[1];
    assert.equal(keyAuthorization, `${TOKEN}.${thumbprint}`);
    assert.equal(await client.getChallengeKeyAuthorization({ type: 'dns-01', token: TOKEN, url: '', status: 'pending' }), dnsChallengeValue(keyAuthorization));
  });

  describe('http-01', () => {
    const path = `/.well-known/acme-challenge/${TOKEN}`;
    const serve = (body: string, status = 200) => (_request: IncomingMessage, response: ServerResponse) => response.writeHead(status).end(body);
    const redirect = (location: string) => (_request: IncomingMessage, response: ServerResponse) => response.writeHead(302, { Location: location }).end();

    it('accepts the key authorization acme-client serves, with a trailing newline, by name, by IP and by DNS', async () => {
      routes = { [path]: serve(`${keyAuthorization}\n`) };
      responder.set('web.lab.test', { a: ['127.0.0.1'] });
      hostHeaders.length = 0;
      assert.equal(await outcome('http-01', dns('a.example.test'), keyAuthorization, targets), 'valid');
      assert.equal(await outcome('http-01', dns('A.Example.Test'), keyAuthorization, targets), 'valid');
      assert.equal(await outcome('http-01', ip('127.0.0.1'), keyAuthorization, targets), 'valid');
      assert.equal(await outcome('http-01', dns('web.lab.test'), keyAuthorization, targets), 'valid');
      assert.deepEqual(hostHeaders, ['a.example.test', 'a.example.test', '127.0.0.1', 'web.lab.test']);
    });

    it("asks the system's DNS servers when no DNS server is set (a Resolver the deadline cancels, not the hosts file)", async () => {
      routes = { [path]: serve(keyAuthorization) };
      const { dnsServer: _ignored, ...system } = targets;
      const result = await outcome('http-01', dns('never.invalid'), keyAuthorization, { ...system, timeoutMs: 300 });
      assert.ok(result !== 'valid' && result.type === 'dns', JSON.stringify(result));
      assert.match(result.detail, /^could not resolve "never\.invalid": /);
    });

    it('follows a redirect to the default http port, and refuses one to another port, scheme or a loop', async () => {
      routes = { [path]: redirect('http://b.example.test/elsewhere'), '/elsewhere': serve(keyAuthorization) };
      assert.equal(await outcome('http-01', dns('a.example.test'), keyAuthorization, targets), 'valid');
      routes = { [path]: redirect('http://b.example.test:8080/elsewhere') };
      assert.deepEqual(await outcome('http-01', dns('a.example.test'), keyAuthorization, targets), {
        type: 'incorrectResponse',
        detail: `http://a.example.test${path} redirected to "http://b.example.test:8080/elsewhere", which names a port other than 80 for http or 443 for https`,
      });
      routes = { [path]: redirect('ftp://b.example.test/elsewhere') };
      assert.equal((await outcome('http-01', dns('a.example.test'), keyAuthorization, targets) as { type: string }).type, 'incorrectResponse');
      routes = { [path]: redirect(path) };
      assert.deepEqual(await outcome('http-01', dns('a.example.test'), keyAuthorization, targets), {
        type: 'incorrectResponse',
        detail: `http://a.example.test${path} redirected more than 10 times`,
      });
    });

    it('follows a redirect to https on the default port without checking its certificate', async () => {
      const keys = await generateKeyPair({ type: 'ecdsa', curve: 'P-256' });
      const now = new Date();
      const certificate = await createCertificate({
        subject: { CN: 'self-signed' }, publicKey: keys.publicKey, serial: randomSerial(), notBefore: now, notAfter: new Date(now.getTime() + 86_400_000),
        signingKey: keys, keyUsage: ['digitalSignature'], sans: [{ type: 'dns', value: 'b.example.test' }],
      });
      const https = createHttpsServer({ cert: certificate.pem, key: await exportPrivateKey(keys.privateKey) }, (request, response) => {
        response.writeHead(request.url === '/secure' && request.headers.host === 'b.example.test' ? 200 : 404).end(keyAuthorization);
      });
      const httpsPort = await listening(https);
      routes = { [path]: redirect('https://b.example.test/secure') };
      try {
        assert.equal(await outcome('http-01', dns('a.example.test'), keyAuthorization, { ...targets, tlsPort: httpsPort }), 'valid');
      } finally {
        https.closeAllConnections();
        https.close();
      }
    });

    it('calls a wrong status, a wrong body and an oversized body incorrectResponse', async () => {
      routes = {};
      assert.deepEqual(await outcome('http-01', dns('a.example.test'), keyAuthorization, targets), {
        type: 'incorrectResponse',
        detail: `http://a.example.test${path} answered with HTTP status 404, not 200`,
      });
      routes = { [path]: serve(`${OTHER_TOKEN}.${keyAuthorization.split('.')[1]}`) };
      assert.deepEqual(await outcome('http-01', dns('a.example.test'), keyAuthorization, targets), {
        type: 'incorrectResponse',
        detail: `the body of http://a.example.test${path} is not the key authorization of the challenge (${OTHER_TOKEN.length + 1 + (keyAuthorization.split('.')[1]?.length ?? 0)} bytes)`,
      });
      routes = { [path]: serve(keyAuthorization.padEnd(9000, ' ')) };
      assert.deepEqual(await outcome('http-01', dns('a.example.test'), keyAuthorization, targets), {
        type: 'incorrectResponse',
        detail: `the body of http://a.example.test${path} is over 8192 bytes, not a key authorization`,
      });
    });

    it('calls a refused connection and a server that never answers a connection problem', async () => {
      const refused = await outcome('http-01', dns('a.example.test'), keyAuthorization, { ...targets, httpPort: await closedPort() });
      assert.equal((refused as { type: string }).type, 'connection');
      assert.match((refused as { detail: string }).detail, /^could not connect to http:\/\/a\.example\.test\/\.well-known\/acme-challenge\/\S+ \(127\.0\.0\.1 port \d+\) \(ECONNREFUSED\)$/);
      const port = (silent.address() as AddressInfo).port;
      const hung = await outcome('http-01', dns('a.example.test'), keyAuthorization, { ...targets, httpPort: port, timeoutMs: 300 });
      assert.equal((hung as { type: string }).type, 'connection');
      assert.match((hung as { detail: string }).detail, /did not answer within 300 ms$/);
    });

    it('calls a name DNS cannot resolve a dns problem, and refuses wildcards', async () => {
      responder.set('broken.lab.test', { servfail: true });
      assert.deepEqual(await outcome('http-01', dns('broken.lab.test'), keyAuthorization, targets), { type: 'dns', detail: 'could not resolve "broken.lab.test": the lookup failed (ESERVFAIL)' });
      assert.deepEqual(await outcome('http-01', dns('missing.lab.test'), keyAuthorization, targets), { type: 'dns', detail: 'could not resolve "missing.lab.test": it has no A or AAAA record' });
      assert.deepEqual(await outcome('http-01', dns('*.example.test'), keyAuthorization, targets), { type: 'unauthorized', detail: 'http-01 cannot validate the wildcard "*.example.test"; use dns-01' });
    });

    it('refuses a token that would change the path, and an identifier that is not one, as malformed', async () => {
      assert.deepEqual(await outcome('http-01', dns('a.example.test'), keyAuthorization, targets, '../../etc'), { type: 'malformed', detail: 'the challenge token is not base64url' });
      assert.deepEqual(await outcome('http-01', ip('10.0.0.0/8'), keyAuthorization, targets), { type: 'malformed', detail: '"10.0.0.0/8" is an IP address range, not an address' });
    });
  });

  describe('tls-alpn-01', () => {
    let certificateKey: string;
    let publicKey: KeyObject;
    let signingKey: Awaited<ReturnType<typeof generateKeyPair>>;

    before(async () => {
      signingKey = await generateKeyPair({ type: 'ecdsa', curve: 'P-256' });
      publicKey = signingKey.publicKey;
      certificateKey = await exportPrivateKey(signingKey.privateKey);
    });

    /** A self-signed certificate with these SANs and extensions, presented by the tls servers from now on. */
    async function present(sans: SubjectAltName[], extraExtensions: Extension[]): Promise<void> {
      const now = new Date();
      const certificate = await createCertificate({
        subject: { CN: 'acme tls-alpn-01' }, publicKey, serial: randomSerial(), notBefore: now, notAfter: new Date(now.getTime() + 86_400_000),
        signingKey, keyUsage: ['digitalSignature'], sans, extraExtensions,
      });
      presented = createSecureContext({ cert: certificate.pem, key: certificateKey });
    }

    it('accepts the certificate acme-client makes, and one the project builder makes for a name and for an IP', async () => {
      const [key, cert] = await acme.crypto.createAlpnCertificate({ identifier: { type: 'dns', value: 'a.example.test' } } as acme.Authorization, keyAuthorization);
      presented = createSecureContext({ cert, key });
      serverNames.length = 0;
      assert.equal(await outcome('tls-alpn-01', dns('a.example.test'), keyAuthorization, targets), 'valid');
      await present([{ type: 'dns', value: 'a.example.test' }], [acmeIdentifierExtension(keyAuthorization)]);
      assert.equal(await outcome('tls-alpn-01', dns('a.example.test'), keyAuthorization, targets), 'valid');
      await present([{ type: 'ip', value: '127.0.0.1' }], [acmeIdentifierExtension(keyAuthorization)]);
      assert.equal(await outcome('tls-alpn-01', ip('127.0.0.1'), keyAuthorization, targets), 'valid');
      assert.deepEqual(serverNames.slice(0, 3), ['a.example.test', 'a.example.test', '1.0.0.127.in-addr.arpa']);
    });

    const wrongCases: { name: string; sans: SubjectAltName[]; extensions: () => Extension[]; detail: string }[] = [
      { name: 'a digest of another key authorization', sans: [{ type: 'dns', value: 'a.example.test' }], extensions: () => [acmeIdentifierExtension(`${OTHER_TOKEN}.x`)], detail: 'has an acmeIdentifier that is not the SHA-256 digest of the key authorization' },
      { name: 'a non-critical acmeIdentifier', sans: [{ type: 'dns', value: 'a.example.test' }], extensions: () => [new Extension({ extnID: ID_PE_ACME_IDENTIFIER, critical: false, extnValue: acmeIdentifierExtension(keyAuthorization).extnValue })], detail: 'has an acmeIdentifier extension that is not marked critical' },
      { name: 'the bare digest without its OCTET STRING', sans: [{ type: 'dns', value: 'a.example.test' }], extensions: () => [new Extension({ extnID: ID_PE_ACME_IDENTIFIER, critical: true, extnValue: new OctetString(keyAuthorizationDigest(keyAuthorization)) })], detail: 'has an acmeIdentifier that is not the SHA-256 digest of the key authorization' },
      { name: 'no acmeIdentifier', sans: [{ type: 'dns', value: 'a.example.test' }], extensions: () => [], detail: 'must have exactly one acmeIdentifier extension (it has 0)' },
      { name: 'two SANs', sans: [{ type: 'dns', value: 'a.example.test' }, { type: 'dns', value: 'b.example.test' }], extensions: () => [acmeIdentifierExtension(keyAuthorization)], detail: 'must have exactly one subjectAltName, "a.example.test" (it has 2)' },
      { name: 'another name', sans: [{ type: 'dns', value: 'b.example.test' }], extensions: () => [acmeIdentifierExtension(keyAuthorization)], detail: 'names "b.example.test", not "a.example.test"' },
    ];
    for (const { name, sans, extensions, detail } of wrongCases) {
      it(`calls a certificate with ${name} incorrectResponse`, async () => {
        await present(sans, extensions());
        const result = await outcome('tls-alpn-01', dns('a.example.test'), keyAuthorization, targets);
        assert.deepEqual(result, { type: 'incorrectResponse', detail: `the tls-alpn-01 certificate presented by 127.0.0.1 port ${targets.tlsPort} ${detail}` });
      });
    }

    it('calls a server without acme-tls/1 a tls problem, and no server a connection problem', async () => {
      await present([{ type: 'dns', value: 'a.example.test' }], [acmeIdentifierExtension(keyAuthorization)]);
      const wrong = await outcome('tls-alpn-01', dns('a.example.test'), keyAuthorization, { ...targets, tlsPort: (wrongAlpn.address() as AddressInfo).port });
      assert.equal((wrong as { type: string }).type, 'tls');
      const plain = await outcome('tls-alpn-01', dns('a.example.test'), keyAuthorization, { ...targets, tlsPort: targets.httpPort });
      assert.equal((plain as { type: string }).type, 'tls');
      const refused = await outcome('tls-alpn-01', dns('a.example.test'), keyAuthorization, { ...targets, tlsPort: await closedPort() });
      assert.match((refused as { type: string; detail: string }).detail, /^could not connect to 127\.0\.0\.1 port \d+ \(ECONNREFUSED\)$/);
      assert.equal((refused as { type: string }).type, 'connection');
      const hung = await outcome('tls-alpn-01', dns('a.example.test'), keyAuthorization, { ...targets, tlsPort: (silent.address() as AddressInfo).port, timeoutMs: 300 });
      assert.deepEqual(hung, { type: 'tls', detail: `the TLS handshake with 127.0.0.1 port ${(silent.address() as AddressInfo).port} did not finish within 300 ms` });
    });
  });

  describe('dns-01', () => {
    it('accepts the TXT value acme-client computes, for a name and for a wildcard, among other records', async () => {
      const txt = await client.getChallengeKeyAuthorization({ type: 'dns-01', token: TOKEN, url: '', status: 'pending' });
      responder.set('_acme-challenge.lab.test', { txt: ['unrelated', txt] });
      responder.queries.length = 0;
      assert.equal(await outcome('dns-01', dns('lab.test'), keyAuthorization, targets), 'valid');
      assert.equal(await outcome('dns-01', dns('*.lab.test'), keyAuthorization, targets), 'valid');
      assert.deepEqual(responder.queries, ['_acme-challenge.lab.test', '_acme-challenge.lab.test']);
    });

    it('calls a missing or wrong record incorrectResponse, a failed lookup dns and an IP address unauthorized', async () => {
      responder.set('_acme-challenge.wrong.test', { txt: [dnsChallengeValue(`${OTHER_TOKEN}.x`)] });
      responder.set('_acme-challenge.broken.test', { servfail: true });
      const cases: [AcmeIdentifier, { type: string; detail: string }][] = [
        [dns('nothing.test'), { type: 'incorrectResponse', detail: 'there is no TXT record at "_acme-challenge.nothing.test"' }],
        [dns('wrong.test'), { type: 'incorrectResponse', detail: 'none of the 1 TXT record at "_acme-challenge.wrong.test" is the digest of the key authorization' }],
        [dns('broken.test'), { type: 'dns', detail: 'could not look up the TXT records of "_acme-challenge.broken.test": the lookup failed (ESERVFAIL)' }],
        [ip('10.0.0.1'), { type: 'unauthorized', detail: 'dns-01 cannot validate an IP address; use http-01 or tls-alpn-01' }],
      ];
      for (const [identifier, expected] of cases) assert.deepEqual(await outcome('dns-01', identifier, keyAuthorization, targets), expected, identifier.value);
    });

    it('calls a DNS server that never answers a dns problem within the time allowed', async () => {
      // A UDP socket that reads queries and never answers.
      const mute = createSocket('udp4');
      await new Promise<void>((resolve) => mute.bind(0, '127.0.0.1', resolve));
      const result = await outcome('dns-01', dns('lab.test'), keyAuthorization, { ...targets, dnsServer: { host: '127.0.0.1', port: mute.address().port }, timeoutMs: 300 });
      mute.close();
      assert.deepEqual(result, { type: 'dns', detail: 'could not look up the TXT records of "_acme-challenge.lab.test": no answer within 300 ms' });
    });
  });

  describe('resolve rules', () => {
    it('parses NAME=IP with any address form, and matches *. below the name only', () => {
      assert.deepEqual(parseResolveRule('*.Example.Test=127.0.0.1'), { pattern: '*.example.test', address: '127.0.0.1' });
      assert.deepEqual(parseResolveRule('host.example.test=0:0:0:0:0:FFFF:A00:1'), { pattern: 'host.example.test', address: '::ffff:a00:1' });
      const rules = [parseResolveRule('*.example.test=10.0.0.1'), parseResolveRule('example.test=10.0.0.2')];
      assert.equal(matchResolveRule('a.b.example.test', rules), '10.0.0.1');
      assert.equal(matchResolveRule('example.test', rules), '10.0.0.2');
      assert.equal(matchResolveRule('badexample.test', rules), undefined);
    });

    it('names an IP address by its reverse-DNS name for SNI (RFC 8738 6)', () => {
      assert.equal(reverseDnsName(Uint8Array.from([10, 0, 0, 1])), '1.0.0.10.in-addr.arpa');
      const v6 = new Uint8Array(16);
      v6.set([0x20, 0x01, 0x0d, 0xb8]);
      v6[15] = 1;
      assert.equal(reverseDnsName(v6), `1.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.ip6.arpa`);
    });

    const hint = 'Write it as NAME=IP, like host.example.test=10.0.0.5 or *.example.test=127.0.0.1.';
    const bad: [string, RegExp][] = [
      ['host.example.test', /^"host\.example\.test" is not a NAME=IP rule: it has no "="$/],
      ['=127.0.0.1', /^"=127\.0\.0\.1" is not a NAME=IP rule: the name is missing$/],
      ['host.example.test=', /^"host\.example\.test=" is not a NAME=IP rule: the IP address is missing$/],
      ['host.example.test=010.0.0.1', /^"host\.example\.test=010\.0\.0\.1" is not a NAME=IP rule: "010\.0\.0\.1" is not a valid IP address: an IPv4 part has a leading zero/],
      ['host.example.test=10.0.0.0/8', /is not a NAME=IP rule: "10\.0\.0\.0\/8" is an IP address range, not an address$/],
      ['bad name=10.0.0.1', /^"bad name=10\.0\.0\.1" is not a NAME=IP rule: "bad name" is not a valid DNS name/],
    ];
    for (const [input, message] of bad) {
      it(`refuses "${input}" in one line with a hint`, () => {
        assert.throws(() => parseResolveRule(input), (error: unknown) => {
          assert.ok(error instanceof InvalidInputError);
          assert.match(error.message, message);
          assert.doesNotMatch(error.message, /\n/);
          assert.equal(error.hint, hint);
          return true;
        });
      });
    }
  });
});
