import { X509Certificate, verify, type KeyObject } from 'node:crypto';
import { TAG, childrenOf, contentOf, encodingOf, readOne, type Tlv } from './der-reader.js';
import type { CertificateView, CrlView } from './inspect.js';
import { readPemBlocks } from './pem-blocks.js';
import { certificateExtensionValue, pemOf, quickCertificate, quickCrl, readSigned } from './quick-inspect.js';

/**
 * What `certified check` reads of every certificate and CRL, without @peculiar/x509: decoding a
 * certificate through the library cost ~4 ms (it re-encodes and re-parses every extension), and
 * check reads thousands. Each function answers undefined when the input is outside what it reads
 * exactly, and the caller then asks the library (inspect.ts, certificate.ts, crl.ts), so the
 * findings are the same either way (test/unit/quick-check.test.ts).
 */

/**
 * inspectCertificate (inspect.ts) of a certificate file's text, when the text is one CERTIFICATE
 * block exactly as certified writes it: then the library and this reader decode the same bytes
 * (the library takes the first block of any label, with its own idea of PEM).
 */
export function inspectCertificateTextQuickly(text: string): CertificateView | undefined {
  return quickView(text, 'CERTIFICATE', quickCertificate);
}

/** inspectCrl (inspect.ts) of a CRL file's text, when it is one X509 CRL block exactly as certified writes it. */
export function inspectCrlTextQuickly(text: string): CrlView | undefined {
  return quickView(text, 'X509 CRL', quickCrl);
}

/** `read`'s view of the one `label` block `text` is, when that view's PEM gives back `text` exactly. */
function quickView<V extends { pem: string }>(text: string, label: string, read: (der: Uint8Array) => V): V | undefined {
  const der = onlyBlock(text, label);
  if (!der) return undefined;
  try {
    const view = read(der);
    return view.pem === text ? view : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The DER value of one extension of a certificate file written as certified writes it, null when
 * it has none; undefined when the file is outside what is read here (ask the library then).
 */
export function certificateExtensionQuickly(text: string, oid: string): Uint8Array | null | undefined {
  const der = canonicalBlock(text, 'CERTIFICATE');
  if (!der) return undefined;
  try {
    const value = certificateExtensionValue(der, oid);
    return value && encodingOf(value);
  } catch {
    return undefined;
  }
}

/** The DER of the one `label` block `text` is, when `text` is exactly that block's PEM as certified writes it. */
function canonicalBlock(text: string, label: string): Uint8Array | undefined {
  const der = onlyBlock(text, label);
  return der && pemOf(der, label) === text ? der : undefined;
}

function onlyBlock(text: string, label: string): Uint8Array | undefined {
  const blocks = readPemBlocks(text);
  return blocks.length === 1 && blocks[0]!.label === label ? blocks[0]!.der : undefined;
}

/** The public key of an issuer's certificate (given as its view's PEM), kept: check verifies thousands of certificates with a few issuers. */
export function issuerKeyOf(issuerPem: string): KeyObject | undefined {
  let key = issuerKeys.get(issuerPem);
  if (key === undefined) {
    key = issuerKeyFromPem(issuerPem);
    if (issuerKeys.size >= ISSUER_KEYS_KEPT) issuerKeys.clear();
    issuerKeys.set(issuerPem, key ?? null);
  }
  return key ?? undefined;
}

const ISSUER_KEYS_KEPT = 64;
const issuerKeys = new Map<string, KeyObject | null>();

function issuerKeyFromPem(pem: string): KeyObject | undefined {
  try {
    // As verifyCertificateSignature (certificate.ts) reads it, natively.
    return new X509Certificate(pem).publicKey;
  } catch {
    return undefined;
  }
}

/**
 * Whether a certificate (PEM or DER) is signed by `issuerKey`, as OpenSSL's X509_verify judges it:
 * the verdict on thousands of certificates is left to the native verifier, not to this reader.
 */
export function verifyCertificateNatively(certificate: string | Uint8Array, issuerKey: KeyObject): boolean {
  try {
    return new X509Certificate(typeof certificate === 'string' ? certificate : Buffer.from(certificate.buffer, certificate.byteOffset, certificate.byteLength)).verify(issuerKey);
  } catch {
    return false; // unparseable, or a key of another algorithm than the signature's
  }
}

/**
 * Whether a CRL (its PEM exactly as certified writes it) is signed by `issuerKey` (Node has no
 * native CRL verifier, and the library decodes a CRL of 1,000 entries in ~1.5 s),
 * checked as OpenSSL's X509_verify and X509_CRL_verify do: the algorithm inside what is signed is
 * the outer one, the key is of the algorithm's type, and the signature verifies. Undefined when
 * anything is outside the shapes read here (another algorithm, an ECDSA signature not in DER's one
 * encoding, which the library's WebCrypto path reads differently): ask the library then.
 */
export function verifySignatureQuickly(pem: string, label: 'X509 CRL', issuerKey: KeyObject): boolean | undefined {
  const der = canonicalBlock(pem, label);
  if (!der) return undefined;
  return verifyDerSignatureQuickly(der, issuerKey);
}

function verifyDerSignatureQuickly(der: Uint8Array, issuerKey: KeyObject): boolean | undefined {
  try {
    const { signed, algorithm, algorithmDer, signature } = readSigned(der);
    // A certificate: [0] version, serial, algorithm; a CRL: version (optional), algorithm.
    const inner = childrenOf(signed).slice(0, 3).find((field) => field.tag === TAG.sequence);
    if (!inner || !Buffer.from(encodingOf(inner)).equals(algorithmDer)) return undefined;
    if (issuerKey.asymmetricKeyType !== algorithm.keyType) return undefined;
    if (algorithm.keyType === 'ec' && !isDerEcdsaSignature(signature)) return undefined;
    return verify(algorithm.hash, encodingOf(signed), issuerKey, signature);
  } catch {
    return undefined;
  }
}

/** SEQUENCE { INTEGER r, INTEGER s } in DER's one encoding: shortest lengths, positive, no padding byte. */
function isDerEcdsaSignature(bytes: Uint8Array): boolean {
  const sequence = readOne(bytes, TAG.sequence);
  if (!minimalLength(sequence)) return false;
  const parts = childrenOf(sequence);
  return parts.length === 2 && parts.every((part) => part.tag === TAG.integer && minimalLength(part) && minimalInteger(contentOf(part)));
}

function minimalLength(tlv: Tlv): boolean {
  const length = tlv.end - tlv.contentStart;
  return tlv.contentStart - tlv.start === (length < 0x80 ? 2 : length < 0x100 ? 3 : 4);
}

function minimalInteger(content: Uint8Array): boolean {
  if (content.length === 0 || content[0]! >= 0x80) return false;
  return !(content[0] === 0 && content.length > 1 && content[1]! < 0x80);
}
