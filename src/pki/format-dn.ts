import { DN_ATTRIBUTES, type DistinguishedName } from './types.js';

// Apart from name.ts (which builds ASN.1 names) so that printing a name loads no ASN.1 library.

/** One-line RFC 4514-like rendering for messages: C=US, O=Example, CN=host. */
export function formatDn(dn: DistinguishedName): string {
  return DN_ATTRIBUTES.filter((attribute) => dn[attribute] !== undefined)
    .map((attribute) => `${attribute}=${dn[attribute]}`)
    .join(', ');
}
