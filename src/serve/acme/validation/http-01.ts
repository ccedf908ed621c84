import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { allowListCovers } from '../../../ca/acme/allow-list.js';
import { AcmeProblem, type ValidationTargets } from '../../../ca/acme/types.js';
import { remainingMs, shown, shownUrl, type Deadline } from './deadline.js';
import { addressesOf } from './resolve.js';

/**
 * http-01 (RFC 8555 8.3): GET http://NAME/.well-known/acme-challenge/TOKEN, the body is the key
 * authorization. Redirects are followed like Let's Encrypt does: at most MAX_REDIRECTS, only to
 * http or https on their default ports (80, 443; for labs, the targets' httpPort and tlsPort),
 * https without checking the certificate. Never through a proxy; the body read is bounded.
 * A redirect leads only to the identifier's own host or to a name or address the ACME allow list
 * covers (targets.redirectAllow): places a client could have this server validate anyway, never
 * the server's own network. What happens after a redirect is reported in one generic detail, so
 * that a validation cannot be used to probe which hosts answer and what.
 */

export const MAX_REDIRECTS = 10;
/** A key authorization is under 200 bytes; anything near this is not one. */
export const MAX_BODY_BYTES = 8 * 1024;

interface Hop {
  url: URL;
  /** The host as the URL names it, without IPv6 brackets. */
  host: string;
}

interface Answer {
  status: number;
  location: string | undefined;
  body: string | undefined;
}

export async function validateHttp01(name: string, token: string, keyAuthorization: string, targets: ValidationTargets, deadline: Deadline): Promise<void> {
  const first = hopOf(new URL(`http://${isIP(name) === 6 ? `[${name}]` : name}/.well-known/acme-challenge/${token}`));
  let hop = first;
  for (let redirects = 0; ; redirects += 1) {
    let answer: Answer;
    try {
      answer = await fetchHop(hop, targets, deadline);
    } catch (error) {
      if (hop === first || !(error instanceof AcmeProblem)) throw error;
      throw afterRedirect(first);
    }
    const where = `${hop.url.href}`;
    if (answer.location !== undefined) {
      if (redirects === MAX_REDIRECTS) throw new AcmeProblem('incorrectResponse', `${shownUrl(first.url.href)} redirected more than ${MAX_REDIRECTS} times`);
      hop = redirectTarget(where, answer.location, first, targets);
      continue;
    }
    if (hop !== first && (answer.status !== 200 || answer.body === undefined || answer.body.trim() !== keyAuthorization)) throw afterRedirect(first);
    if (answer.status !== 200) throw new AcmeProblem('incorrectResponse', `${shownUrl(where)} answered with HTTP status ${answer.status}, not 200`);
    if (answer.body === undefined) throw new AcmeProblem('incorrectResponse', `the body of ${shownUrl(where)} is over ${MAX_BODY_BYTES} bytes, not a key authorization`);
    const body = answer.body.trim();
    if (body !== keyAuthorization) throw new AcmeProblem('incorrectResponse', `the body of ${shownUrl(where)} is not the key authorization of the challenge (${Buffer.byteLength(body)} bytes)`);
    return;
  }
}

/** One detail for whatever went wrong after a redirect: no status, size or connection error of a host behind it. */
function afterRedirect(first: Hop): AcmeProblem {
  return new AcmeProblem('incorrectResponse', `the redirects from ${shownUrl(first.url.href)} did not lead to the key authorization of the challenge`);
}

function hopOf(url: URL): Hop {
  return { url, host: url.hostname.replace(/^\[(.*)\]$/, '$1') };
}

function redirectTarget(from: string, location: string, first: Hop, targets: ValidationTargets): Hop {
  // Past the first hop, where a redirect points is not shown either.
  const refused = (why: string): AcmeProblem =>
    from === first.url.href ? new AcmeProblem('incorrectResponse', `${shownUrl(from)} redirected to "${shownUrl(location)}", which ${why}`) : afterRedirect(first);
  let url: URL;
  try {
    url = new URL(location, from);
  } catch {
    throw refused('is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused('is neither http nor https');
  // URL drops a scheme's default port, so any port left is not 80 for http or 443 for https.
  if (url.port !== '') throw refused('names a port other than 80 for http or 443 for https');
  if (url.username !== '' || url.password !== '') throw refused('carries a user name or password');
  const hop = hopOf(url);
  if (hop.host !== first.host && !allowListCovers(targets.redirectAllow ?? [], { type: isIP(hop.host) ? 'ip' : 'dns', value: hop.host })) {
    throw refused('is neither the same host nor a name the ACME policy allows');
  }
  return hop;
}

/** One GET to the first address of the hop's host that accepts a connection. */
async function fetchHop(hop: Hop, targets: ValidationTargets, deadline: Deadline): Promise<Answer> {
  const addresses = await addressesOf(hop.host, targets, deadline);
  let last: AcmeProblem | undefined;
  for (const address of addresses.slice(0, 4)) {
    try {
      return await fetchOnce(hop, address, targets, deadline);
    } catch (error) {
      if (!(error instanceof AcmeProblem) || error.type !== 'connection') throw error;
      last = error;
    }
  }
  throw last ?? new AcmeProblem('connection', `could not connect to "${shown(hop.host)}"`);
}

function fetchOnce(hop: Hop, address: string, targets: ValidationTargets, deadline: Deadline): Promise<Answer> {
  const secure = hop.url.protocol === 'https:';
  const port = secure ? targets.tlsPort : targets.httpPort;
  const where = `${hop.url.href} (${address} port ${port})`;
  return new Promise<Answer>((resolve, reject) => {
    let connected = false;
    let settled = false;
    const fail = (problem: AcmeProblem): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      reject(problem);
    };
    const options = {
      host: address,
      port,
      method: 'GET',
      path: `${hop.url.pathname}${hop.url.search}`,
      headers: { Host: isIP(hop.host) === 6 ? `[${hop.host}]` : hop.host, Accept: '*/*', 'User-Agent': 'certified-acme-validator', Connection: 'close' },
      agent: false as const,
      maxHeaderSize: 16 * 1024,
    };
    const request = secure
      ? httpsRequest({ ...options, rejectUnauthorized: false, ...(isIP(hop.host) ? {} : { servername: hop.host }) })
      : httpRequest(options);
    const timer = setTimeout(() => fail(new AcmeProblem('connection', `${shownUrl(where)} did not answer within ${deadline.timeoutMs} ms`)), remainingMs(deadline));
    request.on('socket', (socket) => {
      socket.once(secure ? 'secureConnect' : 'connect', () => {
        connected = true;
      });
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? 'error';
      if (code.startsWith('HPE_')) fail(new AcmeProblem('incorrectResponse', `${shownUrl(where)} did not answer with valid HTTP (${code})`));
      else if (secure && !connected && /SSL|TLS|EPROTO|CERT/i.test(`${code} ${error.message}`)) fail(new AcmeProblem('tls', `the TLS handshake with ${shownUrl(where)} failed (${code})`));
      else fail(new AcmeProblem('connection', `could not ${connected ? 'read from' : 'connect to'} ${shownUrl(where)} (${code})`));
    });
    request.on('response', (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if ([301, 302, 303, 307, 308].includes(status) && location !== undefined) {
        settled = true;
        clearTimeout(timer);
        request.destroy();
        resolve({ status, location, body: undefined });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          request.destroy();
          resolve({ status, location: undefined, body: undefined });
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status, location: undefined, body: Buffer.concat(chunks).toString('utf8') });
      });
      response.on('error', (error: NodeJS.ErrnoException) => fail(new AcmeProblem('connection', `${shownUrl(where)} broke off its answer (${error.code ?? 'error'})`)));
    });
    request.end();
  });
}
