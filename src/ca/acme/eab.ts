/**
 * External Account Binding keys. A minimal stand-in so that the server builds: the EAB
 * engineer's version replaces this file.
 */
import type { KeyObject } from 'node:crypto';
import type { CaStore } from '../../store/ca-store.js';
import { CertifiedError } from '../errors.js';
import { AcmeProblem } from './types.js';

export async function createEab(_store: CaStore, _params: { name?: string; caKey: KeyObject; commandLine: string }): Promise<{ kid: string; hmacKey: string; commit: string }> {
  throw new CertifiedError('External Account Bindings are not available in this build', { code: 'EAB_UNAVAILABLE' });
}

export async function verifyEab(_store: CaStore, params: { binding: unknown; accountJwk: JsonWebKey; url: string; caKey: KeyObject }): Promise<{ kid: string }> {
  if (params.binding === undefined) throw new AcmeProblem('externalAccountRequired', 'this server requires an External Account Binding for new accounts');
  throw new AcmeProblem('unauthorized', 'External Account Bindings cannot be verified by this build');
}
