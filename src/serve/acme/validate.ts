/**
 * Challenge validation. A minimal stand-in (http-01 only) so that the server runs: the VALIDATE
 * engineer's version replaces this file.
 */
import { request } from 'node:http';
import { isIP } from 'node:net';
import { InvalidInputError } from '../../ca/errors.js';
import { AcmeProblem, type AcmeIdentifier, type ChallengeType, type ValidationTargets } from '../../ca/acme/types.js';

export function parseResolveRule(text: string): { pattern: string; address: string } {
  const match = /^(\*\.)?([A-Za-z0-9.-]+)=([0-9A-Fa-f:.]+)$/.exec(text);
  if (!match || !isIP(match[3]!)) throw new InvalidInputError(`"${text.slice(0, 60)}" is not NAME=IP`, 'Write it like *.example.test=127.0.0.1.');
  return { pattern: `${match[1] ?? ''}${match[2]!.toLowerCase()}`, address: match[3]! };
}

function addressOf(identifier: AcmeIdentifier, targets: ValidationTargets): string {
  if (identifier.type === 'ip') return identifier.value;
  const name = identifier.value.toLowerCase();
  for (const rule of targets.resolve) {
    if (rule.pattern === name) return rule.address;
    if (rule.pattern.startsWith('*.') && name.endsWith(rule.pattern.slice(1))) return rule.address;
  }
  return name;
}

export async function validateChallenge(type: ChallengeType, identifier: AcmeIdentifier, token: string, keyAuthorization: string, targets: ValidationTargets): Promise<void> {
  if (type !== 'http-01') throw new AcmeProblem('unauthorized', `${type} is not validated by this build`);
  const host = addressOf(identifier, targets);
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      { host, port: targets.httpPort, path: `/.well-known/acme-challenge/${token}`, headers: { Host: identifier.value }, timeout: targets.timeoutMs },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (text.length > 4096) req.destroy(new Error('the answer is too long'));
        });
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new AcmeProblem('incorrectResponse', `http-01: ${identifier.value} answered HTTP ${res.statusCode}`, 403))));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => reject(error instanceof AcmeProblem ? error : new AcmeProblem('connection', `http-01: cannot fetch from ${identifier.value}: ${error.message}`, 400)));
    req.end();
  });
  if (body.trim() !== keyAuthorization) throw new AcmeProblem('incorrectResponse', `http-01: ${identifier.value} answered another key authorization`, 403);
}
