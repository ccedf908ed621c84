import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLNumber, Extensions, RevokedCertificate, TBSCertList, Time, Version, id_ce_cRLNumber, type Name as AsnName } from '@peculiar/asn1-x509';
import { X509Certificate, X509Crl, X509CrlReason } from './x509.js';
import { authorityKeyIdExtension, crlNumberExtension, crlReasonExtension } from './extensions.js';
import { readIssuer } from './issuer.js';
import type { SigningKey } from './keys.js';
import { signStructure, signatureAlgorithmIdentifier } from './signature.js';
import { fromX509Name } from './name.js';
import { readPemBlocks, toPem } from './pem.js';
import { normalizeSerial, serialOctets } from './serial.js';
import type { DistinguishedName, RevocationReason } from './types.js';
import { toArrayBuffer } from './bytes.js';
import { derTlv, encodedItem } from './encoded-block.js';

export interface CrlEntry {
  serial: string;
  revokedAt: Date;
  reason: RevocationReason;
}

export interface CreateCrlParams {
  issuerPem: string;
  signingKey: SigningKey;
  crlNumber: number;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: CrlEntry[];
}

/**
 * A v2 CRL with AKI and CRL number, entries sorted by serial so the same records give the same CRL.
 * Built with the asn1-x509 schema like certificates (see createCertificate): the X.509 library's
 * generator re-parses every entry, checks duplicates in quadratic time and parses its result back.
 */
export async function createCrl(params: CreateCrlParams): Promise<string> {
  const issuer = readIssuer(params.issuerPem);
  const extensions = [...(issuer.keyId ? [authorityKeyIdExtension(issuer.keyId)] : []), crlNumberExtension(params.crlNumber)];
  // Sorted by the serial's value: each key computed once, not in every comparison.
  const entries = params.entries
    .map((entry) => ({ entry, key: serialSortKey(entry.serial) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ entry }) => entry);
  const seen = new Set<string>();
  const encoded = entries.map((entry) => {
    const serial = new Uint8Array(serialOctets(entry.serial));
    const key = Buffer.from(serial).toString('hex');
    if (seen.has(key)) throw new Error(`serial ${normalizeSerial(entry.serial)} is listed twice in the CRL`);
    seen.add(key);
    return encodeRevokedCertificate(entry, serial);
  });
  // The entries go in as one block of DER, encoded here (see encodeRevokedCertificate).
  const revokedCertificates = encoded.length ? [encodedItem<RevokedCertificate>(Buffer.concat(encoded))] : [];
  const tbsCertList = new TBSCertList({
    version: Version.v2,
    signature: signatureAlgorithmIdentifier(params.signingKey.spec),
    issuer: encodedItem<AsnName>(issuer.nameDer),
    thisUpdate: new Time(params.thisUpdate),
    nextUpdate: new Time(params.nextUpdate),
    ...(revokedCertificates.length ? { revokedCertificates } : {}),
    crlExtensions: new Extensions(extensions),
  });
  return toPem(signStructure(tbsCertList, params.signingKey), 'X509 CRL');
}

/** An entry of a CRL as the schema builds it (RFC 5280 5.1.2.6): what encodeRevokedCertificate encodes. */
export function revokedCertificate(entry: CrlEntry): RevokedCertificate {
  return new RevokedCertificate({
    userCertificate: serialOctets(entry.serial),
    revocationDate: new Time(entry.revokedAt),
    // RFC 5280 5.3.1: the reason code "unspecified" SHOULD be left out.
    ...(entry.reason === 'unspecified' ? {} : { crlEntryExtensions: new Extensions([crlReasonExtension(entry.reason)]) }),
  });
}

/**
 * The DER of revokedCertificate(entry), byte for byte (a unit test compares them), without the
 * schema's conversion of every entry: ~150 ms of a 1,000-entry CRL in a fresh process. The
 * reason's extensions are encoded by the schema once per reason, a time outside UTCTime's years
 * by the schema too; only the SEQUENCE, the INTEGER and a UTCTime are written here.
 */
export function encodeRevokedCertificate(entry: CrlEntry, serial = new Uint8Array(serialOctets(entry.serial))): Uint8Array {
  const parts = [derTlv(INTEGER, serial), encodeTime(entry.revokedAt)];
  if (entry.reason !== 'unspecified') parts.push(encodeReasonExtensions(entry.reason));
  return derTlv(SEQUENCE, Buffer.concat(parts));
}

const reasonExtensions = new Map<RevocationReason, Uint8Array>();

function encodeReasonExtensions(reason: RevocationReason): Uint8Array {
  let der = reasonExtensions.get(reason);
  if (!der) reasonExtensions.set(reason, (der = new Uint8Array(AsnConvert.serialize(new Extensions([crlReasonExtension(reason)])))));
  return der;
}

/** As the schema's Time: whole seconds, UTCTime YYMMDDHHMMSSZ up to 2049, GeneralizedTime after. */
function encodeTime(date: Date): Uint8Array {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 2049) return new Uint8Array(AsnConvert.serialize(new Time(date)));
  const two = (value: number) => String(value).padStart(2, '0');
  const text = `${two(year % 100)}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  return derTlv(UTC_TIME, Buffer.from(text, 'latin1'));
}

function serialSortKey(serial: string): string {
  return normalizeSerial(serial).padStart(40, '0');
}

export interface CrlInfo {
  issuer: DistinguishedName;
  thisUpdate: Date;
  nextUpdate?: Date;
  crlNumber?: number;
  entries: CrlEntry[];
}

const REASON_NAMES = new Map<number, RevocationReason>([
  [X509CrlReason.keyCompromise, 'keyCompromise'],
  [X509CrlReason.cACompromise, 'cACompromise'],
  [X509CrlReason.affiliationChanged, 'affiliationChanged'],
  [X509CrlReason.superseded, 'superseded'],
  [X509CrlReason.cessationOfOperation, 'cessationOfOperation'],
]);

export function parseCrl(input: string | Uint8Array): CrlInfo {
  const crl = new X509Crl(typeof input === 'string' ? input : toArrayBuffer(input));
  const numberExtension = crl.extensions.find((extension) => extension.type === id_ce_cRLNumber);
  return {
    issuer: fromX509Name(crl.issuerName),
    thisUpdate: crl.thisUpdate,
    ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate } : {}),
    ...(numberExtension
      ? { crlNumber: decodeCrlNumber(numberExtension.value) }
      : {}),
    entries: crl.entries.map((entry) => ({
      serial: normalizeSerial(entry.serialNumber),
      revokedAt: entry.revocationDate,
      reason: (entry.reason !== undefined && REASON_NAMES.get(entry.reason)) || 'unspecified',
    })),
  };
}

/** What the next CRL counts on: the current one's number, and the serials it lists (normalized). */
export interface CrlSummary {
  crlNumber?: number;
  serials: string[];
}

/**
 * The CRL number and the listed serials, read by walking the DER of the TBSCertList alone: the
 * ASN.1 schema builds objects for every entry, which took ~100 ms at 1,000 entries, this ~1 ms.
 * It reads, never builds (certified check still parses and verifies each CRL in full).
 */
export function readCrlSummary(pem: string): CrlSummary {
  const [block] = readPemBlocks(pem);
  if (!block) throw new Error('no PEM block in the CRL');
  const der = block.der;
  const [certList] = derChildren(der, { tag: 0, start: 0, end: der.length });
  if (!certList || certList.tag !== SEQUENCE || certList.end !== der.length) throw new Error('not a DER CertificateList');
  const [tbs] = derChildren(der, certList);
  if (tbs?.tag !== SEQUENCE) throw new Error('not a DER CertificateList');
  const fields = derChildren(der, tbs);
  let index = fields[0]?.tag === INTEGER ? 1 : 0;
  // signature, issuer, thisUpdate, then an optional nextUpdate.
  index += 3;
  if (fields[index]?.tag === UTC_TIME || fields[index]?.tag === GENERALIZED_TIME) index++;
  const serials: string[] = [];
  if (fields[index]?.tag === SEQUENCE) {
    for (const entry of derChildren(der, fields[index]!)) {
      const [serial] = derChildren(der, entry);
      if (serial?.tag !== INTEGER) throw new Error('a CRL entry without a serial');
      serials.push(normalizeSerial(Buffer.from(der.subarray(serial.start, serial.end)).toString('hex')));
    }
    index++;
  }
  let crlNumber: number | undefined;
  const extensions = fields[index];
  if (extensions?.tag === CONTEXT_0) {
    const [list] = derChildren(der, extensions);
    for (const extension of list ? derChildren(der, list) : []) {
      const parts = derChildren(der, extension);
      const id = parts[0];
      const value = parts[parts.length - 1];
      if (id?.tag !== OBJECT_IDENTIFIER || value?.tag !== OCTET_STRING || Buffer.from(der.subarray(id.start, id.end)).toString('hex') !== CRL_NUMBER_OID) continue;
      crlNumber = decodeCrlNumber(toArrayBuffer(der.subarray(value.start, value.end)));
    }
  }
  return { ...(crlNumber === undefined ? {} : { crlNumber }), serials };
}

/** Only the CRL number (what the next CRL counts on from). */
export function readCrlNumber(pem: string): number | undefined {
  return readCrlSummary(pem).crlNumber;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OCTET_STRING = 0x04;
const OBJECT_IDENTIFIER = 0x06;
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;
const CONTEXT_0 = 0xa0;
/** 2.5.29.20, the content octets of id-ce-cRLNumber. */
const CRL_NUMBER_OID = '551d14';

interface DerElement {
  tag: number;
  /** Where its content starts and ends. */
  start: number;
  end: number;
}

/** The elements inside `parent` (single-byte tags, definite lengths: DER). */
function derChildren(der: Uint8Array, parent: DerElement): DerElement[] {
  const elements: DerElement[] = [];
  for (let offset = parent.start; offset < parent.end; ) {
    if (offset + 2 > parent.end) throw new Error('truncated DER');
    const tag = der[offset]!;
    if ((tag & 0x1f) === 0x1f) throw new Error('unexpected DER tag');
    let length = der[offset + 1]!;
    let start = offset + 2;
    if (length & 0x80) {
      const count = length & 0x7f;
      if (count === 0 || count > 4 || start + count > parent.end) throw new Error('bad DER length');
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + der[start + i]!;
      start += count;
    }
    const end = start + length;
    if (end > parent.end) throw new Error('truncated DER');
    elements.push({ tag, start, end });
    offset = end;
  }
  return elements;
}

/** The schema gives INTEGERs of four bytes or more as decimal strings; CRL numbers here are safe integers. */
function decodeCrlNumber(der: BufferSource): number {
  const value = Number(AsnConvert.parse(der, CRLNumber).value);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error('its CRL number is out of range');
  return value;
}

/** Verifies a CRL's signature with its issuer's public key. */
export async function verifyCrlSignature(crlPem: string, issuerPem: string): Promise<boolean> {
  const issuer = new X509Certificate(issuerPem);
  return new X509Crl(crlPem).verify({ publicKey: issuer.publicKey });
}
