import type { DistinguishedName } from '../../pki/types.js';
import type { CaStore } from '../../store/ca-store.js';
import { CONFIG_FILE, RECORDS_DIR, SELF_SIGNED_ISSUER, recordsDir } from '../../store/layout.js';
import type { CertificateRecord } from '../../store/records.js';
import { readRecord } from '../certificate-record.js';
import { InvalidInputError, NoCaError } from '../errors.js';
import { IssuerRevocations } from '../issuer-revocations.js';
import { printable } from '../names.js';

export interface ListCertificatesParams {
  /** Only certificates not revoked or superseded whose notAfter is within this many days (or past). */
  expiringDays?: number;
  /** Only those issued by this CA: its file name or its CN (or "self-signed"). */
  issuer?: string;
  now?: Date;
}

/** One certificate as `ls` shows it: the record, with the status as of now. */
export interface CertificateListing {
  name: string;
  cn: string;
  subject: DistinguishedName;
  sans: string[];
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  /** "valid", "expired", "issuer-revoked" (a CA above it was revoked), or the record's own status ("revoked"). */
  status: string;
  profile: string;
  key: string;
  fingerprint: string;
  revocation?: CertificateRecord['revocation'];
  /** Present (true) when certificates.yaml manages it: "certified apply" may renew or revoke it. */
  managed?: true;
  /** A CA whose key is in another engine: certified signed it and cannot sign with it. */
  external?: true;
  /** Present when the ACME server issued it: the account and the order. */
  acme?: { account: string; order: string };
}

const LEAF_PROFILES = new Set(['server', 'client', 'server+client', 'self-signed']);

/** Every certificate from records/<issuer>/<serial>.json (certificates are not read), sorted by name. */
export async function listCertificates(store: CaStore, params: ListCertificatesParams = {}): Promise<CertificateListing[]> {
  const records = await readRecords(store);
  if (records.length === 0 && !(await store.exists(CONFIG_FILE))) throw new NoCaError(store.dir);
  const now = (params.now ?? new Date()).toISOString();
  const issuers = new IssuerRevocations(records);
  let listings = records.map((record) => toListing(record, now, issuers));
  if (params.issuer !== undefined) {
    const issuer = resolveIssuer(records, params.issuer);
    listings = listings.filter((listing) => listing.issuer === issuer);
  }
  if (params.expiringDays !== undefined) {
    const limit = new Date(Date.parse(now) + params.expiringDays * 86_400_000).toISOString();
    listings = listings.filter((listing) => (listing.status === 'valid' || listing.status === 'expired') && listing.notAfter <= limit);
  }
  return listings.sort(compareListings);
}

async function readRecords(store: CaStore): Promise<CertificateRecord[]> {
  const paths: string[] = [];
  for (const issuer of await store.list(RECORDS_DIR)) {
    for (const file of await store.list(recordsDir(issuer))) if (file.endsWith('.json')) paths.push(`${recordsDir(issuer)}/${file}`);
  }
  const texts = store.readTexts(paths);
  const records: CertificateRecord[] = [];
  texts.forEach((text, index) => {
    if (text === undefined) return; // removed meanwhile
    records.push(readRecord(paths[index] ?? '', text));
  });
  return records;
}

function toListing(record: CertificateRecord, now: string, issuers: IssuerRevocations): CertificateListing {
  const status = record.status !== 'valid' ? record.status : record.notAfter < now ? 'expired' : issuers.revokedAbove(record) ? 'issuer-revoked' : 'valid';
  return listingOf(record, status);
}

/** A record as `ls --json` and every command's --json show a certificate, with `status` as given. */
export function listingOf(record: CertificateRecord, status: string = record.status): CertificateListing {
  return {
    name: record.name,
    cn: record.subject.CN ?? '',
    subject: record.subject,
    sans: record.sans,
    issuer: record.issuer,
    serial: record.serial,
    notBefore: record.notBefore,
    notAfter: record.notAfter,
    status,
    profile: record.profile,
    key: record.key,
    fingerprint: record.fingerprint,
    ...(record.revocation ? { revocation: record.revocation } : {}),
    ...(record.managed ? { managed: true as const } : {}),
    ...(record.external ? { external: true as const } : {}),
    ...(record.acme ? { acme: { account: record.acme.account, order: record.acme.order } } : {}),
  };
}

/** An issuer filter: a CA's file name or CN, as found in the records. */
function resolveIssuer(records: CertificateRecord[], wanted: string): string {
  if (wanted === SELF_SIGNED_ISSUER || records.some((record) => record.issuer === wanted)) return wanted;
  const cas = records.filter((record) => !LEAF_PROFILES.has(record.profile));
  const found = cas.find((record) => record.name === wanted) ?? cas.find((record) => record.subject.CN === wanted);
  if (!found) {
    throw new InvalidInputError(`there is no issuing CA "${printable(wanted)}"`, 'Give the name or CN of a CA listed by "certified ls".');
  }
  return found.name;
}

function compareListings(a: CertificateListing, b: CertificateListing): number {
  return compare(a.name, b.name) || compare(a.notBefore, b.notBefore) || compare(a.issuer, b.issuer) || compare(a.serial, b.serial);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
