import { AsnConvert } from '@peculiar/asn1-schema';
import { AttributeTypeAndValue, AttributeValue, Name as AsnName, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import type { Name } from './x509.js';
import { DN_ATTRIBUTES, type DistinguishedName, type DnAttribute } from './types.js';

const ATTRIBUTE_TYPE: Record<DnAttribute, string> = {
  C: '2.5.4.6',
  ST: '2.5.4.8',
  L: '2.5.4.7',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
};

/** One attribute per RDN, in DN_ATTRIBUTES order. C is a PrintableString (RFC 5280); every other attribute is a UTF8String. */
export function toAsnName(dn: DistinguishedName): AsnName {
  return new AsnName(
    DN_ATTRIBUTES.flatMap((attribute) => {
      const value = dn[attribute];
      if (value === undefined) return [];
      const typed = new AttributeValue(attribute === 'C' ? { printableString: value } : { utf8String: value });
      return [new RelativeDistinguishedName([new AttributeTypeAndValue({ type: ATTRIBUTE_TYPE[attribute], value: typed })])];
    }),
  );
}

/** The DER of toAsnName(dn); the last one is kept, since a certificate and its CSR encode the same subject. */
export function nameDer(dn: DistinguishedName): Uint8Array {
  const key = JSON.stringify(DN_ATTRIBUTES.map((attribute) => dn[attribute] ?? null));
  if (lastName?.key !== key) lastName = { key, der: new Uint8Array(AsnConvert.serialize(toAsnName(dn))) };
  return lastName.der;
}

let lastName: { key: string; der: Uint8Array } | undefined;

/** The attributes of `dn` that are set, as a certificate built from it reads back. */
export function definedAttributes(dn: DistinguishedName): DistinguishedName {
  return Object.fromEntries(DN_ATTRIBUTES.flatMap((attribute) => (dn[attribute] === undefined ? [] : [[attribute, dn[attribute]]])));
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

export { formatDn } from './format-dn.js';
