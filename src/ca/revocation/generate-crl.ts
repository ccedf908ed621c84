import { createCrl, readCrlSummary, type CrlSummary } from '../../pki/crl.js';
import type { CaStore, FileWrite } from '../../store/ca-store.js';
import { CRL_DIR, certPath, isRootName, keyPath, recordPath } from '../../store/layout.js';
import type { CertificateRecord } from '../../store/records.js';
import { GitOperationError, gitOperationName } from '../../store/errors.js';
import { loadCrlRecords } from './crl-records.js';
import type { AskPassword } from '../passwords.js';
import { resolveIssuer } from '../authorities/issuers.js';
import { loadIssuer, type Issuer } from '../load-issuer.js';
import { commitMessage, isoDate } from '../commit-message.js';
import { issuedBy } from '../issuer-revocations.js';
import { CertifiedError, PasswordError } from '../errors.js';
import { loadConfig } from '../ca-files.js';
import { caOfCrlFile, crlDaysFor, crlFileOf, type CaConfig } from '../config.js';
import { gitFinishCommand } from '../store-errors.js';

export { loadRecords } from './crl-records.js';

export interface CrlOptions {
  now: Date;
  days: number;
  records?: CertificateRecord[];
  /** The number the new CRL must exceed, where the current file cannot tell (a merge conflict). */
  previous?: number;
  /** The CA's settings where the change rewrites them (a root rotation): they say where the CRL goes. */
  config?: CaConfig;
  /** Records the same command rewrites, in place of theirs on disk. */
  changed?: CertificateRecord[];
  /** Read every record of the issuer, not only those the index of revoked certificates lists (while resolving a merge). */
  allRecords?: boolean;
}

/** A CRL a command signed: whose, where, its number and its validity. */
export interface PublishedCrl {
  /** The CA that signed it (its file name). */
  issuer: string;
  path: string;
  crlNumber: number;
  thisUpdate: Date;
  nextUpdate: Date;
}

/** A CRL file to write, with the number and the count of entries it was signed with. */
export interface CrlWrite extends FileWrite, PublishedCrl {
  entries: number;
  /** What the index of revoked certificates needs with it (see loadCrlRecords): commit these in the same change. */
  index: { writes: FileWrite[]; removes: string[] };
}

/**
 * The issuer's CRL from its records alone (plus `extra`, records changed by the same command).
 * Its number is the signing time in seconds, or one past the current CRL's number if that is
 * larger: branches that each re-signed a CRL merge into a CRL whose next number is greater than
 * every number either branch published, whichever side the merge kept.
 */
export async function buildCrl(store: CaStore, issuer: Issuer, options: CrlOptions): Promise<CrlWrite> {
  const path = crlFileOf(options.config ?? (await loadConfig(store).catch(() => undefined)), issuer.name);
  const current = options.previous === undefined ? await store.readText(path) : undefined;
  const summary = current ? currentCrlSummary(path, current) : undefined;
  const previous = options.previous ?? summary?.crlNumber ?? 0;
  const crlNumber = Math.max(previous + 1, Math.floor(options.now.getTime() / 1000));
  const loaded = options.records
    ? { records: options.records, indexWrites: [], indexRemoves: [] }
    : await loadCrlRecords(store, issuer.name, summary?.serials ?? [], { full: options.allRecords === true });
  const records = options.changed ? withChanged(loaded.records, options.changed, issuer.name) : loaded.records;
  const entries = records.flatMap((record) =>
    record.status === 'revoked' && record.revocation && record.issuer === issuer.name && record.serial !== issuer.certificate.serial && issuedBy(record, issuer.certificate)
      ? [{ serial: record.serial, revokedAt: new Date(record.revocation.date), reason: record.revocation.reason }]
      : [],
  );
  // Whole seconds, as the CRL holds them (RFC 5280 allows no fractions), so results report what the file says.
  const thisUpdate = new Date(Math.floor(options.now.getTime() / 1000) * 1000);
  const nextUpdate = new Date(thisUpdate.getTime() + options.days * 86_400_000);
  const content = await createCrl({ issuerPem: issuer.certificate.pem, signingKey: issuer.key, crlNumber, thisUpdate, nextUpdate, entries });
  return {
    path,
    content,
    commit: true,
    issuer: issuer.name,
    crlNumber,
    thisUpdate,
    nextUpdate,
    entries: entries.length,
    index: { writes: loaded.indexWrites, removes: loaded.indexRemoves },
  };
}

/** What a result reports of a CRL it wrote (not its bytes). */
export function publishedCrl(write: PublishedCrl): PublishedCrl {
  return { issuer: write.issuer, path: write.path, crlNumber: write.crlNumber, thisUpdate: write.thisUpdate, nextUpdate: write.nextUpdate };
}

function currentCrlSummary(path: string, pem: string): CrlSummary {
  try {
    return readCrlSummary(pem);
  } catch (error) {
    throw new CertifiedError(`"${path}" is not a readable CRL, so the next CRL number is unknown: ${(error as Error).message}`, {
      code: 'BAD_CRL',
      hint: `Restore it from git ("git checkout -- ${path}"), then run the command again.`,
      cause: error,
    });
  }
}

/** The CRL from the records on disk with `changed` (records the same command rewrites) in place of theirs. */
export async function buildCrlWith(
  store: CaStore,
  issuer: Issuer,
  changed: CertificateRecord[],
  options: Omit<CrlOptions, 'records' | 'changed'>,
): Promise<CrlWrite> {
  return buildCrl(store, issuer, { ...options, changed });
}

function withChanged(records: CertificateRecord[], changed: CertificateRecord[], issuer: string): CertificateRecord[] {
  const bySerial = new Map(records.map((record) => [record.serial, record]));
  for (const record of changed) if (record.issuer === issuer) bySerial.set(record.serial, record);
  return [...bySerial.values()];
}

/** Every CA that publishes a CRL and still has its certificate (a revoked CA's files are moved away). */
export async function listCrlIssuers(store: CaStore): Promise<string[]> {
  const config = await loadConfig(store).catch(() => undefined);
  const names = (await store.list(CRL_DIR)).filter((file) => file.endsWith('.crl')).map((file) => caOfCrlFile(config, file.slice(0, -'.crl'.length)));
  const present = await Promise.all(names.map((name) => store.exists(certPath(name))));
  return names.filter((_, index) => present[index]);
}

/** A CRL that was not re-signed, and why: the root key is kept offline, or no password for it was given. */
export interface SkippedCrl {
  issuer: string;
  reason: 'root-key-offline' | 'no-password' | 'token-unreachable';
  /** Where the key would have to be for this CRL. */
  keyPath: string;
  /** For a key on a token: why it could not be opened. */
  why?: string;
}

/**
 * The CRLs to re-sign: the one of `issuer` (a file name or CN) when given, else every CA's that
 * can be signed now. The root's is skipped (and listed) when its key is offline, unless asked for
 * by name, which then reports the missing key.
 */
export async function chooseCrlIssuers(store: CaStore, issuer?: string): Promise<{ issuers: string[]; optional: string[]; skipped: SkippedCrl[] }> {
  if (issuer !== undefined) return { issuers: [await resolveIssuer(store, issuer)], optional: [], skipped: [] };
  const all = await listCrlIssuers(store);
  const tokenKeys = all.some(isRootName) ? (await loadConfig(store).catch(() => undefined))?.tokenKeys : undefined;
  const issuers: string[] = [];
  const optional: string[] = [];
  const skipped: SkippedCrl[] = [];
  for (const name of all) {
    // Not asked for by name, a root's CRL (which lives a year) is re-signed only when its key can be opened.
    if (!isRootName(name)) issuers.push(name);
    else if (tokenKeys?.[name] !== undefined || (await store.exists(keyPath(name)))) {
      issuers.push(name);
      optional.push(name);
    } else skipped.push({ issuer: name, reason: 'root-key-offline', keyPath: keyPath(name) });
  }
  return { issuers, optional, skipped };
}

export interface ResignCrlsParams {
  /** The issuers from chooseCrlIssuers. */
  issuers: string[];
  /** Issuers whose CRL is skipped, not refused, when no password for their key is given (the root's, unless asked for). */
  optional?: string[];
  /** Asked for each issuer's key that is encrypted. */
  askPassword: AskPassword;
  /** Lifetimes for this run; by default the CA's (crlDaysFor). */
  days?: number;
  rootDays?: number;
  commandLine: string;
  now?: Date;
  /** Hears how many of the issuers are done (re-signed or skipped). */
  onProgress?: (done: number, total: number) => void;
}

export interface ResignCrlsResult {
  crls: { issuer: string; path: string; crlNumber: number; entries: number; thisUpdate: Date; nextUpdate: Date }[];
  /** CRLs left as they were because no password opened their key (see ResignCrlsParams.optional). */
  skipped: SkippedCrl[];
  /** Empty when every CRL was skipped and nothing was committed. */
  commit: string;
  /** During an unfinished merge (or rebase, cherry-pick, revert) the CRLs are staged for the commit that finishes it, not committed. */
  stagedForMerge: boolean;
  /** Then, what was under way and the command that finishes it ("git commit", "git rebase --continue"). */
  stagedFor?: { operation: string; finish: string };
}

/**
 * Re-signs the CRLs of `issuers` from their records, in one commit. During an unfinished merge
 * (or a rebase, cherry-pick or revert stopped on a conflict) whose only conflicts are CRLs, it
 * resolves them: each CRL is rebuilt from the merged records, numbered past both sides, and staged
 * for the commit that finishes the merge.
 */
export async function resignCrls(store: CaStore, params: ResignCrlsParams): Promise<ResignCrlsResult> {
  return store.locked(async () => {
    const now = params.now ?? new Date();
    const merge = await store.unfinishedMerge();
    const config = await loadConfig(store);
    const crlPath = (name: string) => crlFileOf(config, name);
    if (merge) {
      refuseForeignConflicts(merge.operation, merge.unmerged, params.issuers.map(crlPath));
      // A rebase, cherry-pick or revert goes on with the user's own commits: what it stopped on for a
      // CRL is resolved here, anything else would be swept into the commit it makes next.
      if (merge.operation !== 'merge' && merge.operation !== 'squash' && !params.issuers.some((name) => merge.unmerged.includes(crlPath(name)))) throw new GitOperationError(store.dir, merge.operation);
    }
    const writes: FileWrite[] = [];
    const removes: string[] = [];
    const crls: ResignCrlsResult['crls'] = [];
    const skipped: SkippedCrl[] = [];
    for (const [done, name] of params.issuers.entries()) {
      params.onProgress?.(done, params.issuers.length);
      let issuer: Issuer;
      try {
        issuer = await loadIssuer(store, name, params.askPassword);
      } catch (error) {
        const optional = params.optional?.includes(name) === true && !merge?.unmerged.includes(crlPath(name));
        if (optional && error instanceof PasswordError && error.problem === 'missing') {
          skipped.push({ issuer: name, reason: 'no-password', keyPath: keyPath(name) });
          continue;
        }
        if (optional && (await import('../token-keys.js')).isUnreachableTokenKey(error)) {
          skipped.push({ issuer: name, reason: 'token-unreachable', keyPath: keyPath(name), why: error.message });
          continue;
        }
        throw error;
      }
      const days = (isRootName(name) ? params.rootDays : params.days) ?? crlDaysFor(config, name);
      const conflicted = merge?.unmerged.includes(crlPath(name)) === true;
      const sides = conflicted ? await crlSides(store, crlPath(name)) : undefined;
      // Resolving a merge, every record is read: the index merged too, but the records are the truth.
      const write = await buildCrl(store, issuer, { now, days, allRecords: merge !== undefined, ...(sides ? { previous: sides.crlNumber } : {}) });
      if (sides) refuseUndoneRevocations(merge!.operation, name, sides.serials, write.content);
      writes.push(write, ...write.index.writes);
      removes.push(...write.index.removes);
      crls.push({ issuer: name, path: write.path, crlNumber: write.crlNumber, entries: write.entries, thisUpdate: write.thisUpdate, nextUpdate: write.nextUpdate });
    }
    params.onProgress?.(params.issuers.length, params.issuers.length);
    if (crls.length === 0) return { crls, skipped, commit: '', stagedForMerge: false };
    const soonest = new Date(Math.min(...crls.map((crl) => crl.nextUpdate.getTime())));
    const message = commitMessage({
      summary: `Re-sign the CRL${crls.length === 1 ? '' : 's'} of ${crls.map((crl) => crl.issuer).join(', ')} (next update ${isoDate(soonest)})`,
      commandLine: params.commandLine,
      details: crls.map((crl) => `${crl.path}: CRL number ${crl.crlNumber}, ${crl.entries} revoked, next update ${isoDate(crl.nextUpdate)}`),
      trailers: { 'Certified-Action': 'crl', 'Certified-Issuers': crls.map((crl) => crl.issuer).join(', ') },
    });
    const { commit, stagedFor } = await store.apply({ message, writes: uniqueWrites(writes), removes: [...new Set(removes)], stageDuringMerge: true });
    return { crls, skipped, commit, stagedForMerge: stagedFor !== undefined, ...(stagedFor ? { stagedFor: { operation: gitOperationName(stagedFor), finish: gitFinishCommand(stagedFor) } } : {}) };
  });
}

/** The index writes of several CRLs built from scratch (see rebuildRevokedIndex) repeat each other. */
function uniqueWrites(writes: FileWrite[]): FileWrite[] {
  return [...new Map(writes.map((write) => [write.path, write])).values()];
}

/** During a merge, conflicts in anything but the CRLs being re-signed are the user's to resolve first. */
function refuseForeignConflicts(operation: GitOperationError['operation'], unmerged: string[], crls: string[]): void {
  const ours = new Set(crls);
  const foreign = unmerged.filter((path) => !ours.has(path));
  if (foreign.length === 0) return;
  const offlineCrls = foreign.filter((path) => path.startsWith(`${CRL_DIR}/`));
  throw new CertifiedError(`the ${gitOperationName(operation)} has conflicts that certified does not resolve: ${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', ...' : ''}`, {
    code: 'MERGE_CONFLICTS',
    hint: offlineCrls.length
      ? 'A CRL whose key is not here cannot be re-signed: bring the key back, or take either side ("git checkout --theirs" on it, then "git add" it) and re-sign it later. Nothing was changed.'
      : `Resolve those conflicts and "git add" them, then run "certified crl" again to re-sign the CRLs, and finish with "${gitFinishCommand(operation)}". Nothing was changed.`,
  });
}

/** Of the two sides of a CRL git could not merge: the larger CRL number (0 where neither side reads), and every serial either lists. */
async function crlSides(store: CaStore, path: string): Promise<{ crlNumber: number; serials: Set<string> }> {
  let crlNumber = 0;
  const serials = new Set<string>();
  for (const stage of [2, 3] as const) {
    const pem = await store.unmergedVersion(path, stage);
    if (pem === undefined) continue;
    const summary = currentCrlSummary(path, pem);
    crlNumber = Math.max(crlNumber, summary.crlNumber ?? 0);
    for (const serial of summary.serials) serials.add(serial);
  }
  return { crlNumber, serials };
}

/**
 * Refuses a CRL rebuilt from the records that lacks a serial a side of the conflict listed: the
 * records then say a revoked certificate is valid again (a "git revert" of its revocation), and a
 * revocation relying parties have seen cannot be undone.
 */
function refuseUndoneRevocations(operation: GitOperationError['operation'], issuer: string, listed: Set<string>, rebuilt: string): void {
  const kept = new Set(readCrlSummary(rebuilt).serials);
  const dropped = [...listed].filter((serial) => !kept.has(serial));
  if (dropped.length === 0) return;
  throw new CertifiedError(`the ${gitOperationName(operation)} makes ${dropped.length === 1 ? 'a certificate' : `${dropped.length} certificates`} of "${issuer}" valid again that a side's CRL lists as revoked (serial ${dropped.slice(0, 3).join(', ')}${dropped.length > 3 ? ', ...' : ''}): a revocation cannot be undone`, {
    code: 'REVOCATION_UNDONE',
    hint: `Keep ${dropped.length === 1 ? 'its record' : 'their records'} revoked (${recordPath(issuer, dropped[0]!)}: take the revoked side, "git add" it), or abort the ${gitOperationName(operation)}; issue a new certificate instead. Nothing was changed.`,
  });
}
