/** Value types of certificates that commands pass to ca/, re-exported so that cli/ imports only ca/. */
export type { KeySpec } from '../pki/keys.js';
export type { DistinguishedName, SubjectAltName } from '../pki/types.js';
export { describeKey } from '../pki/keys.js';
