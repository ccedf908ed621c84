import { Name, type JsonNameParams } from './x509.js';
import { DN_ATTRIBUTES, type DistinguishedName, type DnAttribute } from './types.js';

/** C is a PrintableString (RFC 5280); every other attribute is a UTF8String. */
export function toX509Name(dn: DistinguishedName): Name {
  const json: JsonNameParams = [];
  for (const attribute of DN_ATTRIBUTES) {
    const value = dn[attribute];
    if (value === undefined) continue;
    json.push({ [attribute]: [attribute === 'C' ? { printableString: value } : { utf8String: value }] });
  }
  return new Name(json);
}

function isDnAttribute(type: string): type is DnAttribute {
  return (DN_ATTRIBUTES as readonly string[]).includes(type);
}

/** The attributes we know from a parsed name; others (e.g. emailAddress) are left out. */
export function fromX509Name(name: Name): DistinguishedName {
  const dn: DistinguishedName = {};
  for (const rdn of name.toJSON()) {
    for (const [type, values] of Object.entries(rdn)) {
      const value = values[0];
      if (isDnAttribute(type) && typeof value === 'string' && dn[type] === undefined) dn[type] = value;
    }
  }
  return dn;
}

/** One-line RFC 4514-like rendering for messages: C=US, O=Example, CN=host. */
export function formatDn(dn: DistinguishedName): string {
  return DN_ATTRIBUTES.filter((attribute) => dn[attribute] !== undefined)
    .map((attribute) => `${attribute}=${dn[attribute]}`)
    .join(', ');
}
