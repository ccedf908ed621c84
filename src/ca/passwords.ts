import { INTERMEDIATE_NAME, isRootName } from '../store/layout.js';

/** Whose key a password opens: the root's, another CA's, a certificate's own, or a PKCS#11 token's user PIN. */
export type KeyRole = 'root' | 'ca' | 'certificate' | 'pin' | 'root-pin';

/** What ca/ asks for when it opens an encrypted key: the caller decides where the password comes from. */
export interface PasswordRequest {
  role: KeyRole;
  /** The certificate's file name ("root-ca", "ca", "team-ca", "web"). */
  name: string;
  /** The key file, relative to the CA directory (for a PIN: the key's PKCS#11 URI). */
  path: string;
  /** For a PIN: the URI's pin-source, where the PIN may be read from. */
  pinSource?: string;
}

/** Called only when the key really is encrypted; undefined (or empty) means none was given. */
export type AskPassword = (request: PasswordRequest) => Promise<string | undefined>;

/** For callers that have no password to give: an encrypted key then fails with a PasswordError. */
export const noPassword: AskPassword = async () => undefined;

/** The key in words, for prompts and messages: "the root key", "the key of the CA \"team-ca\"". */
export function keyLabel(request: Pick<PasswordRequest, 'role' | 'name'>): string {
  if (request.role === 'root') return 'the root key';
  if (request.role === 'pin' || request.role === 'root-pin') return `the token holding the key of "${request.name}"`;
  if (request.role === 'ca') return request.name === INTERMEDIATE_NAME ? 'the intermediate key' : `the key of the CA "${request.name}"`;
  return `the key of "${request.name}"`;
}

/** The root key is the root's; every other CA key is a CA's. */
export function caKeyRole(name: string): KeyRole {
  return isRootName(name) ? 'root' : 'ca';
}
