/**
 * IP addresses as the bytes of an iPAddress GeneralName (RFC 5280 4.2.1.6): 4 bytes for IPv4, 16
 * for IPv6; a name constraint adds as many bytes of mask. The text forms read are exactly those of
 * RFC 4291 2.2 (hex groups of 1-4 digits, one "::", an IPv4 part in the last 32 bits) and the
 * dotted quad without leading zeros; the text written is RFC 5952's hex form (lower case, the
 * first longest run of two or more zero groups as "::"), the one @peculiar/asn1-x509 prints when
 * it reads a certificate, so that a name read back compares equal to the name asked for.
 */

const DOTTED_QUAD = /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The 4 bytes of a dotted quad, or undefined (leading zeros, like 010, are not read: octal or decimal?). */
export function ipv4Bytes(text: string): Uint8Array | undefined {
  const match = DOTTED_QUAD.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  return octets.every((octet) => octet <= 255) ? Uint8Array.from(octets) : undefined;
}

/** The 16 bytes of an RFC 4291 text form, or undefined. No zone id ("%eth0"): it names a link, not an address. */
export function ipv6Bytes(text: string): Uint8Array | undefined {
  if (text.length > 45 || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const compressed = halves.length === 2;
  const fields = (half: string): string[] => (half === '' ? [] : half.split(':'));
  const head = fields(halves[0] ?? '');
  const tail = compressed ? fields(halves[1] ?? '') : [];
  // An IPv4 part may only be the last field of the whole address.
  const lastPart = compressed ? tail : head;
  let v4: Uint8Array | undefined;
  if (lastPart.at(-1)?.includes('.')) {
    v4 = ipv4Bytes(lastPart.pop() ?? '');
    if (!v4) return undefined;
  }
  const room = v4 ? 6 : 8;
  const count = head.length + tail.length;
  if (![...head, ...tail].every((word) => HEX_GROUP.test(word))) return undefined;
  if (compressed ? count > room - 1 : count !== room) return undefined;
  const words = compressed ? [...head, ...Array<string>(room - count).fill('0'), ...tail] : head;
  const bytes = new Uint8Array(16);
  words.forEach((word, index) => {
    const value = parseInt(word, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  });
  if (v4) bytes.set(v4, 12);
  return bytes;
}

/** The bytes of an IPv4 or IPv6 address in any form RFC 4291 allows, or undefined. */
export function ipAddressBytes(text: string): Uint8Array | undefined {
  return text.includes(':') ? ipv6Bytes(text) : ipv4Bytes(text);
}

/** The canonical text of 4 or 16 bytes: a dotted quad, or RFC 5952 hex. */
export function formatIpAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length !== 16) throw new Error(`an IP address has 4 or 16 bytes, not ${bytes.length}`);
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let best = { start: -1, length: 0 };
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && words[start + length] === 0) length++;
    if (length > best.length) best = { start, length };
    start += length;
  }
  const hex = words.map((word) => word.toString(16));
  if (best.length < 2) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

/**
 * The text @peculiar/asn1-x509 turns into the right bytes. Its own reader splits IPv6 on ":" and
 * IPv4 on ".", so an IPv4 part inside IPv6 ("::ffff:10.0.0.1") became other bytes ("::ffff:10");
 * it is given every IPv6 address as eight full hex groups, which it cannot misread. A "/prefix"
 * (a name constraint's range) is kept.
 */
export function ipAsnText(text: string): string {
  const [address = '', prefix] = text.split('/');
  const bytes = ipAddressBytes(address);
  if (!bytes) throw new Error(`"${text}" is not an IP address`);
  const spelled = bytes.length === 4 ? [...bytes].join('.') : [...Array(8).keys()].map((i) => (((bytes[i * 2] ?? 0) << 8) | (bytes[i * 2 + 1] ?? 0)).toString(16)).join(':');
  return prefix === undefined ? spelled : `${spelled}/${prefix}`;
}
