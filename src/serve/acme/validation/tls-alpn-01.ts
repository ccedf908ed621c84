import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { AcmeProblem, type AcmeIdentifier, type ValidationTargets } from '../../../ca/acme/types.js';
import { keyAuthorizationDigest, readTlsAlpnCertificate, type TlsAlpnCertificate } from '../../../pki/acme-challenge.js';
import { ipAddressBytes } from '../../../pki/ip-address.js';
import { remainingMs, shown, type Deadline } from './deadline.js';
import { addressesOf, reverseDnsName } from './resolve.js';

/**
 * tls-alpn-01 (RFC 8737): a TLS handshake with SNI = the name (for an IP address its reverse-DNS
 * name, RFC 8738 6) offering only ALPN "acme-tls/1"; the self-signed certificate presented must
 * name exactly the identifier and carry a critical acmeIdentifier extension holding
 * SHA-256(key authorization). The certificate's chain and dates are not checked: it is made for
 * this handshake alone.
 */

export const ACME_TLS_ALPN = 'acme-tls/1';

export async function validateTlsAlpn01(identifier: AcmeIdentifier, keyAuthorization: string, targets: ValidationTargets, deadline: Deadline): Promise<void> {
  const ipBytes = identifier.type === 'ip' ? ipAddressBytes(identifier.value) : undefined;
  const servername = ipBytes ? reverseDnsName(ipBytes) : identifier.value;
  const addresses = await addressesOf(identifier.value, targets, deadline);
  let last: AcmeProblem | undefined;
  for (const address of addresses.slice(0, 4)) {
    let der: Uint8Array;
    try {
      der = await handshake(address, targets.tlsPort, servername, deadline);
    } catch (error) {
      if (!(error instanceof AcmeProblem) || error.type !== 'connection') throw error;
      last = error;
      continue;
    }
    checkCertificate(der, identifier, keyAuthorization, `${address} port ${targets.tlsPort}`);
    return;
  }
  throw last ?? new AcmeProblem('connection', `could not connect to "${shown(identifier.value)}"`);
}

/** The DER of the certificate presented after a handshake that negotiated acme-tls/1. */
function handshake(address: string, port: number, servername: string, deadline: Deadline): Promise<Uint8Array> {
  const where = `${address} port ${port}`;
  return new Promise<Uint8Array>((resolve, reject) => {
    let tls: TLSSocket | undefined;
    let settled = false;
    const tcp = netConnect({ host: address, port });
    const finish = (outcome: AcmeProblem | Uint8Array): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      tls?.destroy();
      tcp.destroy();
      if (outcome instanceof AcmeProblem) reject(outcome);
      else resolve(outcome);
    };
    const timer = setTimeout(
      () => finish(tls ? new AcmeProblem('tls', `the TLS handshake with ${where} did not finish within ${deadline.timeoutMs} ms`) : new AcmeProblem('connection', `could not connect to ${where} within ${deadline.timeoutMs} ms`)),
      remainingMs(deadline),
    );
    tcp.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? 'error';
      finish(tls ? new AcmeProblem('tls', `the TLS handshake with ${where} failed (${code})`) : new AcmeProblem('connection', `could not connect to ${where} (${code})`));
    });
    tcp.once('connect', () => {
      const options = { socket: tcp, ALPNProtocols: [ACME_TLS_ALPN], rejectUnauthorized: false, minVersion: 'TLSv1.2' as const };
      // Node refuses an IP address as SNI; the reverse-DNS name of one is a DNS name like any other.
      tls = tlsConnect(isIP(servername) ? options : { ...options, servername });
      tls.on('error', (error: NodeJS.ErrnoException) => finish(new AcmeProblem('tls', `the TLS handshake with ${where} failed (${error.code ?? error.message})`)));
      tls.once('secureConnect', () => {
        const socket = tls as TLSSocket;
        if (socket.alpnProtocol !== ACME_TLS_ALPN) {
          finish(new AcmeProblem('tls', `${where} did not negotiate the ALPN protocol "${ACME_TLS_ALPN}" (it chose ${socket.alpnProtocol ? `"${shown(socket.alpnProtocol)}"` : 'none'})`));
          return;
        }
        const certificate = socket.getPeerX509Certificate();
        if (!certificate) finish(new AcmeProblem('tls', `${where} presented no certificate`));
        else finish(new Uint8Array(certificate.raw));
      });
    });
  });
}

function checkCertificate(der: Uint8Array, identifier: AcmeIdentifier, keyAuthorization: string, where: string): void {
  const wrong = (why: string): AcmeProblem => new AcmeProblem('incorrectResponse', `the tls-alpn-01 certificate presented by ${where} ${why}`);
  let certificate: TlsAlpnCertificate;
  try {
    certificate = readTlsAlpnCertificate(der);
  } catch {
    throw wrong('does not parse as an X.509 certificate');
  }
  const [san] = certificate.sans;
  if (certificate.sanExtensions !== 1 || certificate.sans.length !== 1 || san === undefined || san.type === 'other') {
    throw wrong(`must have exactly one subjectAltName, "${shown(identifier.value)}" (it has ${certificate.sans.length})`);
  }
  const same = san.type === identifier.type && (san.type === 'dns' ? san.value.toLowerCase() === identifier.value.toLowerCase() : san.value === identifier.value);
  if (!same) throw wrong(`names "${shown(san.value)}", not "${shown(identifier.value)}"`);
  const [extension, ...more] = certificate.acmeIdentifiers;
  if (extension === undefined || more.length > 0) throw wrong(`must have exactly one acmeIdentifier extension (it has ${certificate.acmeIdentifiers.length})`);
  if (!extension.critical) throw wrong('has an acmeIdentifier extension that is not marked critical');
  const expected = keyAuthorizationDigest(keyAuthorization);
  if (extension.value === undefined || !Buffer.from(extension.value).equals(Buffer.from(expected))) {
    throw wrong('has an acmeIdentifier that is not the SHA-256 digest of the key authorization');
  }
}
