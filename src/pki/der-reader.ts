/**
 * A strict reader of the few DER shapes certificates, CSRs and CRLs are made of, with no library:
 * what `certified show` needs when git runs it once per file (see quick-inspect.ts). Anything it
 * does not read exactly (a long tag, an indefinite length, bytes left over) throws NotQuick, and
 * the caller falls back to the full parser.
 */

/** The input is outside what the quick reader handles: use the full parser. */
export class NotQuick extends Error {
  constructor(what: string) {
    super(`not read quickly: ${what}`);
    this.name = 'NotQuick';
  }
}

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  enumerated: 0x0a,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** One TLV: its tag byte and where its content lies in `bytes`. */
export interface Tlv {
  bytes: Uint8Array;
  tag: number;
  /** Where the whole TLV starts (the tag byte). */
  start: number;
  contentStart: number;
  end: number;
}

export function readTlv(bytes: Uint8Array, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw new NotQuick('truncated');
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new NotQuick('long tag');
  const first = bytes[offset + 1]!;
  let length = first;
  let contentStart = offset + 2;
  if (first >= 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4 || contentStart + count > limit) throw new NotQuick('length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[contentStart + i]!;
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) throw new NotQuick('truncated');
  return { bytes, tag, start: offset, contentStart, end };
}

/** The whole input as one TLV (of this tag, when given), with nothing after it. */
export function readOne(bytes: Uint8Array, tag?: number): Tlv {
  const tlv = readTlv(bytes, 0, bytes.length);
  if (tlv.end !== bytes.length) throw new NotQuick('trailing bytes');
  return tag === undefined ? tlv : expect(tlv, tag);
}

export function expect(tlv: Tlv | undefined, tag: number): Tlv {
  if (!tlv || tlv.tag !== tag) throw new NotQuick(`tag ${tlv?.tag.toString(16) ?? 'missing'} instead of ${tag.toString(16)}`);
  return tlv;
}

/** The TLVs inside a constructed one, which must fill it exactly. */
export function childrenOf(parent: Tlv): Tlv[] {
  if ((parent.tag & 0x20) === 0) throw new NotQuick('primitive where constructed');
  const children: Tlv[] = [];
  for (let offset = parent.contentStart; offset < parent.end; ) {
    const child = readTlv(parent.bytes, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

export function contentOf(tlv: Tlv): Uint8Array {
  return tlv.bytes.subarray(tlv.contentStart, tlv.end);
}

/** The whole TLV, tag and length included. */
export function encodingOf(tlv: Tlv): Uint8Array {
  return tlv.bytes.subarray(tlv.start, tlv.end);
}

export function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function readOid(tlv: Tlv): string {
  const content = contentOf(expect(tlv, TAG.oid));
  if (content.length === 0) throw new NotQuick('empty OID');
  const parts: number[] = [];
  let value = 0;
  for (let i = 0; i < content.length; i++) {
    const byte = content[i]!;
    if (value === 0 && byte === 0x80) throw new NotQuick('OID padding');
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new NotQuick('OID arc');
    if ((byte & 0x80) === 0) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    } else if (i === content.length - 1) throw new NotQuick('OID truncated');
  }
  return parts.join('.');
}

/** A non-negative INTEGER that fits a safe integer. */
export function readSmallInteger(tlv: Tlv, tag: number = TAG.integer): number {
  const content = contentOf(expect(tlv, tag));
  if (content.length === 0 || content.length > 6 || (content[0]! & 0x80) !== 0) throw new NotQuick('integer');
  let value = 0;
  for (const byte of content) value = value * 256 + byte;
  return value;
}

export function readBoolean(tlv: Tlv): boolean {
  const content = contentOf(expect(tlv, TAG.boolean));
  if (content.length !== 1) throw new NotQuick('boolean');
  return content[0] !== 0;
}

/** The text of a UTF8String, PrintableString or IA5String (the others are not read quickly). */
export function readString(tlv: Tlv, tags: readonly number[]): string {
  if (!tags.includes(tlv.tag)) throw new NotQuick(`string tag ${tlv.tag.toString(16)}`);
  const content = contentOf(tlv);
  if (tlv.tag !== TAG.utf8String) return asciiOf(content);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(content);
  } catch {
    throw new NotQuick('UTF-8');
  }
  // A byte order mark or a control character: the libraries may differ on it, leave it to them.
  if (/[\u0000-\u001f\u007f\ufeff]/.test(text)) throw new NotQuick('control character');
  return text;
}

/** Printable ASCII only. */
export function asciiOf(content: Uint8Array): string {
  for (const byte of content) if (byte > 0x7e || byte < 0x20) throw new NotQuick('non-ASCII string');
  return Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('latin1');
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/** A UTCTime (years 1950 to 2049) or GeneralizedTime, whole seconds in UTC. */
export function readTime(tlv: Tlv): Date {
  if (tlv.tag !== TAG.utcTime && tlv.tag !== TAG.generalizedTime) throw new NotQuick('time tag');
  const text = asciiOf(contentOf(tlv));
  const match = (tlv.tag === TAG.utcTime ? UTC_TIME : GENERALIZED_TIME).exec(text);
  if (!match) throw new NotQuick('time format');
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const fullYear = tlv.tag === TAG.utcTime ? (year >= 50 ? 1900 + year : 2000 + year) : year;
  if (fullYear < 1950 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) throw new NotQuick('time range');
  const date = new Date(Date.UTC(fullYear, month - 1, day, hour, minute, second));
  if (date.getUTCDate() !== day) throw new NotQuick('time range');
  return date;
}
