import type { AsnType as Asn1jsType } from 'asn1js';

/**
 * DER already encoded, put in a SEQUENCE as it is: asn1js takes each child's bytes from its
 * toBER, written to the writer it passes. For parts whose encoding through the schema costs more
 * than everything else: the to-be-signed part a second time (see signStructure), or a CRL's
 * entries (see createCrl).
 */
class EncodedBlock {
  constructor(private readonly der: Uint8Array) {}

  toBER(sizeOnly?: boolean, writer?: { write(buffer: ArrayBuffer): void }): ArrayBuffer {
    const bytes = sizeOnly ? new ArrayBuffer(this.der.byteLength) : (this.der.buffer.slice(this.der.byteOffset, this.der.byteOffset + this.der.byteLength) as ArrayBuffer);
    writer?.write(bytes);
    return bytes;
  }
}

export function encodedBlock(der: Uint8Array | ArrayBuffer): Asn1jsType {
  return new EncodedBlock(der instanceof Uint8Array ? der : new Uint8Array(der)) as unknown as Asn1jsType;
}

/** The DER of one TLV with a single-byte tag: the length in short or long form. */
export function derTlv(tag: number, content: Uint8Array): Uint8Array {
  const length = content.length;
  const header = length < 0x80 ? [tag, length] : length < 0x100 ? [tag, 0x81, length] : length < 0x10000 ? [tag, 0x82, length >> 8, length & 0xff] : [tag, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff];
  const out = new Uint8Array(header.length + length);
  out.set(header, 0);
  out.set(content, header.length);
  return out;
}

/** A stand-in for a schema object (an item of a SEQUENCE OF) whose DER is already encoded. */
export function encodedItem<T>(der: Uint8Array): T {
  return {
    toASN: () => encodedBlock(der),
    fromASN: () => {
      throw new Error('an encoded item is only written');
    },
  } as unknown as T;
}
