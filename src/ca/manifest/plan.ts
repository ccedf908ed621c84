import { describeKey } from '../../pki/keys.js';
import type { CaStore } from '../../store/ca-store.js';
import { INTERMEDIATE_NAME, RECORDS_DIR, certPath } from '../../store/layout.js';
import type { CertificateRecord } from '../../store/records.js';
import { loadConfig } from '../ca-files.js';
import { CertifiedError } from '../errors.js';
import { loadRecords } from '../revocation/generate-crl.js';
import { MANIFEST_FILE, ManifestError, parseManifest, type Manifest, type ManifestEntry } from './manifest.js';
import { formatSan } from '../names.js';

export type PlanActionKind = 'issue' | 'renew' | 'reissue' | 'revoke';

export interface PlanAction {
  kind: PlanActionKind;
  name: string;
  /** Why, in a few words: "SAN added: DNS:api.example.com", "expires in 12 days". */
  reason: string;
  /** What the manifest asks for (not for revoke). */
  entry?: ManifestEntry;
  /** The current valid certificate (not for issue). */
  record?: CertificateRecord;
}

export interface Plan {
  manifest: Manifest;
  actions: PlanAction[];
  /** Every record of the CA, by issuer: apply rebuilds CRLs from these without reading them again. */
  records: Map<string, CertificateRecord[]>;
  unchanged: number;
}

export class NoManifestError extends CertifiedError {
  constructor(dir: string) {
    super(`there is no ${MANIFEST_FILE} in "${dir}"`, {
      code: 'NO_MANIFEST',
      hint: `Write one (see the README, "Declarative CA: plan and apply") and commit it.`,
    });
  }
}

const DAY_MS = 86_400_000;
const PROFILE_NAMES: Record<string, string> = { server: 'server', client: 'client', 'server+client': 'both', ca: 'ca' };

/**
 * Reads certificates.yaml and every record, and works out what apply would do. Writes nothing.
 * `onProgress` hears how many manifest entries have been compared with the CA.
 */
export async function planManifest(store: CaStore, now = new Date(), onProgress?: (done: number, total: number) => void): Promise<Plan> {
  await loadConfig(store);
  const text = await store.readText(MANIFEST_FILE);
  if (text === undefined) throw new NoManifestError(store.dir);
  const manifest = await parseManifest(text);
  const records = new Map<string, CertificateRecord[]>();
  for (const issuer of await store.list(RECORDS_DIR)) records.set(issuer, await loadRecords(store, issuer));
  const current = new Map<string, CertificateRecord>();
  for (const record of [...records.values()].flat()) {
    if (record.status !== 'valid' || record.profile === 'root' || record.name === INTERMEDIATE_NAME) continue;
    const known = current.get(record.name);
    if (!known || known.notBefore < record.notBefore) current.set(record.name, record);
  }

  const actions: PlanAction[] = [];
  const ordered = [...manifest.entries.filter((e) => e.profile === 'ca'), ...manifest.entries.filter((e) => e.profile !== 'ca')];
  const replacedIssuers = new Set<string>();
  const wanted = new Set(manifest.entries.map((entry) => entry.name));
  const issuersInCa = new Map<string, boolean>();
  for (const [compared, entry] of ordered.entries()) {
    onProgress?.(compared, ordered.length);
    if (entry.issuer !== INTERMEDIATE_NAME && !wanted.has(entry.issuer)) await checkIssuer(store, issuersInCa, entry);
    if (current.get(entry.issuer)?.external && !wanted.has(entry.issuer)) {
      throw new ManifestError(entry.line, `the issuer of "${entry.name}", "${entry.issuer}", is an external CA: certified has no key for it`, 'Issue from it in the engine that holds its key, or use issuer: ca.');
    }
    const record = current.get(entry.name);
    if (!record) {
      if (await store.exists(certPath(entry.name))) throw conflict(entry, `"${certPath(entry.name)}" exists without a valid record`);
      actions.push({ kind: 'issue', name: entry.name, reason: describeEntry(entry), entry });
      replacedIssuers.add(entry.name);
      continue;
    }
    if (!record.managed) throw conflict(entry, 'a certificate of that name was issued by hand');
    const changes = differences(entry, record);
    if (replacedIssuers.has(entry.issuer)) changes.push(`issuer ${entry.issuer} replaced`);
    const daysLeft = Math.floor((Date.parse(record.notAfter) - now.getTime()) / DAY_MS);
    if (changes.length) {
      actions.push({ kind: 'reissue', name: entry.name, reason: changes.join('; '), entry, record });
    } else if (daysLeft < manifest.renewBeforeDays) {
      const reason = daysLeft < 0 ? `expired ${-daysLeft} days ago` : `expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'}`;
      actions.push({ kind: 'renew', name: entry.name, reason, entry, record });
    } else {
      continue;
    }
    replacedIssuers.add(entry.name);
  }
  onProgress?.(ordered.length, ordered.length);
  for (const record of [...current.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    if (record.managed && !wanted.has(record.name)) actions.push({ kind: 'revoke', name: record.name, reason: 'removed from manifest', record });
  }
  return { manifest, actions, records, unchanged: manifest.entries.length - actions.filter((a) => a.kind !== 'revoke').length };
}

/** What changed between the manifest entry and the certificate it has now. */
function differences(entry: ManifestEntry, record: CertificateRecord): string[] {
  const changes: string[] = [];
  if (record.subject.CN !== entry.cn) changes.push(`CN changed: ${record.subject.CN ?? ''} -> ${entry.cn}`);
  // A CA has no SANs; one made by an older apply may, which is no reason to replace the CA.
  const wanted = entry.profile === 'ca' ? record.sans : entry.sans.map(formatSan);
  const added = wanted.filter((san) => !record.sans.includes(san));
  const removed = record.sans.filter((san) => !wanted.includes(san));
  if (added.length) changes.push(`SAN added: ${added.join(', ')}`);
  if (removed.length) changes.push(`SAN removed: ${removed.join(', ')}`);
  if (record.profile !== entry.profile) changes.push(`profile changed: ${PROFILE_NAMES[record.profile] ?? record.profile} -> ${PROFILE_NAMES[entry.profile]}`);
  const key = describeKey(entry.key);
  if (record.key !== key) changes.push(`key changed: ${record.key} -> ${key}`);
  if (record.issuer !== entry.issuer) changes.push(`issuer changed: ${record.issuer} -> ${entry.issuer}`);
  return changes;
}

/** "server, ECDSA P-256, 365 days, issuer ca: DNS:web.example.com, IP Address:10.0.0.5" */
export function describeEntry(entry: ManifestEntry): string {
  const sans = entry.sans.map(formatSan).join(', ');
  return `${PROFILE_NAMES[entry.profile]}, ${describeKey(entry.key)}, ${entry.days} days, issuer ${entry.issuer}${sans ? `: ${sans}` : ''}`;
}

/** One line per action, as `certified plan` prints it. */
export function formatAction(action: PlanAction): string {
  const sign = action.kind === 'issue' ? '+' : action.kind === 'revoke' ? '-' : '~';
  const record = action.record;
  const details = action.kind === 'revoke' && record ? `; serial ${record.serial}, expires ${record.notAfter.slice(0, 10)}` : '';
  return `${sign} ${action.kind} ${action.name} (${action.reason}${details})`;
}

/**
 * An issuer that is neither the intermediate nor in the manifest must be in the CA. `inCa`
 * remembers the answer per issuer: thousands of entries may name the same one.
 */
async function checkIssuer(store: CaStore, inCa: Map<string, boolean>, entry: ManifestEntry): Promise<void> {
  let exists = inCa.get(entry.issuer);
  if (exists === undefined) inCa.set(entry.issuer, (exists = await store.exists(certPath(entry.issuer))));
  if (!exists) {
    throw new ManifestError(entry.line, `the issuer of "${entry.name}", "${entry.issuer}", is neither in the manifest nor in the CA`, 'Add it with "ca: true", or use issuer: ca.');
  }
}

function conflict(entry: ManifestEntry, why: string): ManifestError {
  return new ManifestError(
    entry.line,
    `"${entry.name}" cannot be managed by the manifest: ${why}`,
    ['Revoke it first ("certified revoke ', { option: 'name', value: entry.name }, '"), or give the entry another name.'],
  );
}
