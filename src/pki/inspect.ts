import {
  BasicConstraintsExtension,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Pkcs10CertificateRequest,
  X509Certificate,
  X509Crl,
  type HashedAlgorithm,
} from './x509.js';
import { toArrayBuffer } from './bytes.js';
import { describeCertificate, fingerprintOf, type CertificateInfo } from './certificate.js';
import { parseCrl, type CrlInfo } from './crl.js';
import { parseCsr, type CsrInfo } from './csr.js';
import { readPemBlocks } from './pem.js';
import { EKU_NAMES, KEY_USAGE_NAMES } from './quick-inspect.js';
import { PEM_KINDS } from './pem-labels.js';

/** A certificate as `certified show` and `certified check` see it: every field a reviewer needs. */
export interface CertificateView extends CertificateInfo {
  kind: 'certificate';
  signatureAlgorithm: string;
  /** Every key usage bit set, by its RFC 5280 name. */
  keyUsageNames: string[];
  keyUsageCritical: boolean;
  /** serverAuth, clientAuth, ... or the OID when it has no name here. */
  extendedKeyUsageNames: string[];
  basicConstraintsCritical: boolean;
}

export interface CsrView extends Omit<CsrInfo, 'publicKey'> {
  kind: 'csr';
  signatureAlgorithm: string;
}

export interface CrlView extends CrlInfo {
  kind: 'crl';
  pem: string;
  signatureAlgorithm: string;
  fingerprint: string;
}

/** A PEM block that is no certificate, CSR or CRL (a key, say): named, never decoded. */
export interface OtherView {
  kind: 'other';
  label: string;
}

/** A block that claims to be one of ours but does not parse. */
export interface UnreadableView {
  kind: 'unreadable';
  label: string;
  error: string;
}

export type PkiView = CertificateView | CsrView | CrlView | OtherView | UnreadableView;

function algorithmName(algorithm: HashedAlgorithm): string {
  const hash = (algorithm.hash as { name?: string } | undefined)?.name;
  return hash ? `${algorithm.name} with ${hash}` : algorithm.name;
}

export function inspectCertificate(input: string | Uint8Array): CertificateView {
  const certificate = new X509Certificate(typeof input === 'string' ? input : toArrayBuffer(input));
  const keyUsage = certificate.getExtension(KeyUsagesExtension);
  const eku = certificate.getExtension(ExtendedKeyUsageExtension);
  const basic = certificate.getExtension(BasicConstraintsExtension);
  return {
    ...describeCertificate(certificate),
    kind: 'certificate',
    signatureAlgorithm: algorithmName(certificate.signatureAlgorithm),
    keyUsageNames: KEY_USAGE_NAMES.filter((name) => ((keyUsage?.usages ?? 0) & KeyUsageFlags[name]) !== 0),
    keyUsageCritical: keyUsage?.critical ?? false,
    extendedKeyUsageNames: [...(eku?.usages ?? [])].map((oid) => EKU_NAMES[String(oid)] ?? String(oid)),
    basicConstraintsCritical: basic?.critical ?? false,
  };
}

export async function inspectCsr(input: string | Uint8Array): Promise<CsrView> {
  const request = new Pkcs10CertificateRequest(typeof input === 'string' ? input : toArrayBuffer(input));
  const { publicKey: _publicKey, ...info } = await parseCsr(new Uint8Array(request.rawData));
  return { ...info, kind: 'csr', signatureAlgorithm: algorithmName(request.signatureAlgorithm) };
}

export function inspectCrl(input: string | Uint8Array): CrlView {
  const crl = new X509Crl(typeof input === 'string' ? input : toArrayBuffer(input));
  const der = new Uint8Array(crl.rawData);
  return {
    ...parseCrl(der),
    kind: 'crl',
    pem: crl.toString('pem').replace(/-----(BEGIN|END) CRL-----/g, '-----$1 X509 CRL-----').replace(/\r\n/g, '\n').trimEnd() + '\n',
    signatureAlgorithm: algorithmName(crl.signatureAlgorithm),
    fingerprint: fingerprintOf(der),
  };
}


/**
 * Whether the bytes are one DER SEQUENCE whose length covers them exactly, as every certificate,
 * CSR and CRL is. Checked before parsing: the parser builds large structures from junk (a 50 MB
 * file of random bytes took gigabytes), and junk almost never passes this.
 */
export function isOneDerSequence(der: Uint8Array): boolean {
  if (der.length < 2 || der[0] !== 0x30) return false;
  const first = der[1] ?? 0;
  if (first < 0x80) return 2 + first === der.length;
  const count = first & 0x7f;
  if (count === 0 || count > 4 || der.length < 2 + count) return false;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (der[2 + i] ?? 0);
  return 2 + count + length === der.length;
}

async function inspectDer(kind: 'certificate' | 'csr' | 'crl', der: Uint8Array): Promise<PkiView> {
  if (!isOneDerSequence(der)) throw new Error('not one DER object (its length does not match its content)');
  if (kind === 'certificate') return inspectCertificate(der);
  if (kind === 'csr') return inspectCsr(der);
  return inspectCrl(der);
}

/**
 * Every certificate, CSR and CRL in a file's content, in order: PEM (one block or many, as in a
 * chain) or a single DER object. A block that does not parse is reported, not thrown, so that one
 * bad block never hides the others. Throws only when the content holds nothing we know.
 */
export async function inspectContent(content: Uint8Array): Promise<PkiView[]> {
  // Looked for in the bytes: a large DER or junk file is never copied into a string.
  const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  if (bytes.includes('-----BEGIN ')) {
    const text = bytes.toString('latin1');
    const views: PkiView[] = [];
    for (const block of readPemBlocks(text)) {
      const kind = PEM_KINDS[block.label];
      if (!kind) {
        views.push({ kind: 'other', label: block.label });
        continue;
      }
      try {
        views.push(await inspectDer(kind, block.der));
      } catch (error) {
        views.push({ kind: 'unreadable', label: block.label, error: (error as Error).message });
      }
    }
    return views;
  }
  if (!isOneDerSequence(content)) throw new Error('no certificate, CSR or CRL found (neither PEM nor DER)');
  const errors: string[] = [];
  for (const kind of ['certificate', 'crl', 'csr'] as const) {
    try {
      return [await inspectDer(kind, content)];
    } catch (error) {
      errors.push((error as Error).message); // not this kind: try the next
    }
  }
  // Each parse failed the same way (e.g. the ASN.1 reader's size limit): that says more than "not DER".
  if (errors.every((message) => message === errors[0])) throw new Error(`a DER object that does not parse (${errors[0]})`);
  throw new Error('no certificate, CSR or CRL found (neither PEM nor DER)');
}
