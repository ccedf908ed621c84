import type { RevocationReason } from '../../pki/types.js';
import type { CaStore, ChangeSet, FileWrite } from '../../store/ca-store.js';
import { INTERMEDIATE_NAME, recordPath } from '../../store/layout.js';
import type { CertificateRecord } from '../../store/records.js';
import { loadConfig } from '../ca-files.js';
import type { AskPassword } from '../passwords.js';
import { issuedByCurrentCa, loadIssuer, type Issuer } from '../load-issuer.js';
import { recordWrite } from '../certificate-record.js';
import { commitMessage } from '../commit-message.js';
import { crlDaysFor, type CaConfig } from '../config.js';
import { CertifiedError } from '../errors.js';
import { buildCrl, publishedCrl, type PublishedCrl } from '../revocation/generate-crl.js';
import { prepareIssue, type PreparedIssue } from '../issuing/issue-certificate.js';
import { prepareIssues, type IssueJob } from '../issuing/issue-pool.js';
import { prepareSubCa } from '../authorities/create-sub-ca.js';
import { prepareRevocation } from '../revocation/revoke-certificate.js';
import { MANIFEST_FILE, type ManifestEntry } from './manifest.js';
import { planManifest, formatAction, type Plan, type PlanAction } from './plan.js';

export interface ApplyManifestParams {
  /** Asked for each issuing CA's key that is encrypted. */
  askPassword: AskPassword;
  /** Encrypts the new keys (then they are committed); otherwise they stay git-ignored. */
  password?: string;
  commitEach: boolean;
  allowRevoke: boolean;
  commandLine: string;
  now?: Date;
  /** Sees the plan under the lock before anything is built (to print it). */
  onPlan?: (plan: Plan) => void;
  /** Asked after the checks, before anything is written; false stops with nothing changed. */
  confirm: (plan: Plan) => Promise<boolean>;
  /** Hears how far each step is: entries compared, certificates built, commits made (see ApplyStep). */
  onProgress?: (done: number, total: number, step: ApplyStep) => void;
}

/**
 * The steps of an apply that take long: 'plan' (manifest entries compared with the CA), 'issue'
 * (certificates and sub-CAs built), 'commit' (actions committed: one by one with commitEach, else
 * all of them at once, reported at 0 and at the end).
 */
export type ApplyStep = 'plan' | 'issue' | 'commit';

export interface ApplyManifestResult {
  plan: Plan;
  /** False when the user said no (or there was nothing to do). */
  applied: boolean;
  commits: string[];
  issued: number;
  warnings: string[];
  /** What each action of the plan did, in its order: the certificate made (or, for a revoke, revoked) and the one it revoked. */
  done: { action: PlanAction; record: CertificateRecord; revoked?: CertificateRecord }[];
  /** The CRLs re-signed for the certificates revoked (the last of each issuer's, with --commit-each). */
  /** The CRLs signed: new sub-CAs' first ones and those re-signed for revocations, with their count of entries. */
  crls: (PublishedCrl & { entries: number })[];
}

export class RevokeNotAllowedError extends CertifiedError {
  constructor(names: string[]) {
    super(`the plan revokes ${names.length} certificate${names.length === 1 ? '' : 's'} removed from ${MANIFEST_FILE} (${names.join(', ')})`, {
      code: 'REVOKE_NOT_ALLOWED',
      hint: ['Nothing was changed. Check the plan, then run "certified apply ', { option: 'allowRevoke' }, '", or put the entries back.'],
    });
  }
}

/** One action, built and ready to commit. */
interface Built {
  change: ChangeSet;
  /** Records revoked by this action, by issuer, for the CRL. */
  revoked: CertificateRecord[];
  issued: number;
  /** The certificate made, as committed. */
  record?: CertificateRecord;
  /** A new sub-CA's first CRL. */
  crl?: PublishedCrl;
}

/** Makes the CA match certificates.yaml: one commit for the whole plan, or one per action. */
export async function applyManifest(store: CaStore, params: ApplyManifestParams): Promise<ApplyManifestResult> {
  return store.locked(async () => {
    const now = params.now ?? new Date();
    const progress = params.onProgress;
    const plan = await planManifest(store, now, progress && ((done, total) => progress(done, total, 'plan')));
    params.onPlan?.(plan);
    const revokes = plan.actions.filter((action) => action.kind === 'revoke');
    if (revokes.length && !params.allowRevoke) throw new RevokeNotAllowedError(revokes.map((action) => action.name));
    const result: ApplyManifestResult = { plan, applied: false, commits: [], issued: 0, warnings: [], done: [], crls: [] };
    if (plan.actions.length === 0 || !(await params.confirm(plan))) return result;

    const config = await loadConfig(store);
    const issuers = new Map<string, Issuer>();
    // A new sub-CA's key is encrypted like the intermediate's, with its password: remember it.
    let caPassword: string | undefined;
    const askPassword: AskPassword = async (request) => {
      const password = await params.askPassword(request);
      if (request.name === INTERMEDIATE_NAME) caPassword = password || undefined;
      return password;
    };
    const issuerOf = async (name: string): Promise<Issuer> => {
      let issuer = issuers.get(name);
      if (!issuer) issuers.set(name, (issuer = await loadIssuer(store, name, askPassword)));
      return issuer;
    };
    // Signing needs the keys: load the intermediate's first so that a wrong password fails before any work.
    await issuerOf(INTERMEDIATE_NAME);
    const records = plan.records;
    const positions = new Map<string, Map<string, number>>();
    const pending: Built[] = [];
    const commitBuilt = async (built: Built[], message: string): Promise<void> => {
      const crls: FileWrite[] = [];
      for (const crl of built.flatMap((b) => (b.crl ? [b.crl] : []))) result.crls.push({ ...crl, entries: 0 });
      // A CA that was revoked itself signs no CRL any more (see revokeCertificate).
      const revoked = built.flatMap((b) => b.revoked);
      const current = await Promise.all(revoked.map((record) => issuedByCurrentCa(store, record)));
      for (const issuerName of new Set(revoked.filter((_, index) => current[index]).map((record) => record.issuer))) {
        const crl = await buildCrl(store, await issuerOf(issuerName), { now, days: crlDaysFor(config, issuerName), records: records.get(issuerName) ?? [] });
        crls.push(crl);
        result.crls = [...result.crls.filter((known) => known.issuer !== issuerName), { ...publishedCrl(crl), entries: crl.entries }];
      }
      const { commit } = await store.apply({
        message,
        writes: lastWritePerPath([...built.flatMap((b) => b.change.writes), ...crls]),
        moves: built.flatMap((b) => b.change.moves ?? []),
      });
      result.commits.push(commit);
    };

    const context = { ...params, now, caPassword: () => caPassword };
    const toBuild = plan.actions.filter((action) => action.entry).length;
    let builtCount = 0;
    const onBuilt = (count: number) => progress?.((builtCount += count), toBuild, 'issue');
    if (toBuild) onBuilt(0);
    // Sub-CAs first: the leaves of the same apply may be signed by them.
    const builtCas = new Map<PlanAction, Built>();
    for (const action of plan.actions) {
      if (action.entry?.profile !== 'ca') continue;
      builtCas.set(action, await buildAction(store, config, action, context, issuerOf, issuers, result.warnings));
      onBuilt(1);
    }
    // Then every leaf, on all cores, one batch per issuer.
    const leaves = plan.actions.filter((action) => action.entry && action.entry.profile !== 'ca');
    const prepared = new Map<string, PreparedIssue>();
    for (const issuerName of new Set(leaves.map((action) => action.entry?.issuer ?? INTERMEDIATE_NAME))) {
      const group = leaves.filter((action) => action.entry?.issuer === issuerName);
      const jobs = group.map((action) => ({ params: issueParams(action.entry!, context), replacing: action.record !== undefined }));
      const results = await prepareIssues(store, config, await issuerOf(issuerName), jobs, onBuilt);
      group.forEach((action, index) => prepared.set(action.name, results[index]!));
    }
    const actions = plan.actions.length;
    progress?.(0, actions, 'commit');
    for (const action of plan.actions) {
      const built =
        builtCas.get(action) ?? (await buildAction(store, config, action, context, issuerOf, issuers, result.warnings, prepared.get(action.name)));
      for (const record of built.revoked) replaceRecord(records, positions, record);
      result.issued += built.issued;
      const made = built.record ?? built.revoked[0];
      if (made) result.done.push({ action, record: made, ...(built.record && built.revoked[0] ? { revoked: built.revoked[0] } : {}) });
      if (params.commitEach) {
        await commitBuilt([built], built.change.message);
        progress?.(result.commits.length, actions, 'commit');
      } else pending.push(built);
    }
    if (!params.commitEach) {
      await commitBuilt(pending, applyMessage(plan, pending, params.commandLine));
      progress?.(actions, actions, 'commit');
    }
    result.applied = true;
    return result;
  });
}

async function buildAction(
  store: CaStore,
  config: CaConfig,
  action: PlanAction,
  params: ApplyManifestParams & { now: Date; caPassword: () => string | undefined },
  issuerOf: (name: string) => Promise<Issuer>,
  issuers: Map<string, Issuer>,
  warnings: string[],
  preparedIssue?: PreparedIssue,
): Promise<Built> {
  const now = params.now;
  const writes: FileWrite[] = [];
  const moves: NonNullable<ChangeSet['moves']> = [];
  const revoked: CertificateRecord[] = [];
  let made: CertificateRecord | undefined;
  let firstCrl: PublishedCrl | undefined;
  if (action.record) {
    const reason: RevocationReason = action.kind === 'revoke' ? 'cessationOfOperation' : 'superseded';
    // Reissued or renewed, the name gets a new request in csr/ in the same change.
    const revocation = await prepareRevocation(store, action.record.issuer, action.record.name, reason, now, { reissued: action.entry !== undefined });
    writes.push(...revocation.writes);
    moves.push(...revocation.moves);
    revoked.push(revocation.record);
  }
  const entry = action.entry;
  let summary = `Revoke ${action.name} (removed from ${MANIFEST_FILE})`;
  const details = [formatAction(action)];
  const trailers: Record<string, string> = { 'Certified-Action': `apply-${action.kind}`, 'Certified-Name': action.name };
  if (action.record) trailers['Certified-Revoked-Serial'] = action.record.serial;
  if (entry) {
    const issuer = await issuerOf(entry.issuer);
    const replacing = action.record !== undefined;
    if (entry.profile === 'ca') {
      // A sub-CA key is encrypted like the intermediate's, with the CA password, so that apply can load it again.
      const subCa = await prepareSubCa(store, config, issuer, {
        name: entry.name,
        subject: { CN: entry.cn },
        key: entry.key,
        days: entry.days,
        ...(params.caPassword() ? { password: params.caPassword() } : {}),
        now,
        replacing,
      });
      const record = (made = { ...subCa.record, managed: true });
      firstCrl = subCa.crl;
      issuers.set(entry.name, subCa.self!);
      writes.push(...subCa.writes.map((write) => (write.path === recordPath(record.issuer, record.serial) ? recordWrite(record) : write)));
      warnings.push(...subCa.warnings.map((warning) => `${entry.name}: ${warning}`));
      summary = `${verb(action)} sub-CA ${entry.name} (expires ${record.notAfter.slice(0, 10)})`;
      details.push(`Serial: ${record.serial}`, `SHA-256: ${record.fingerprint}`);
      trailers['Certified-Serial'] = record.serial;
    } else {
      const prepared = preparedIssue ?? (await prepareIssue(store, config, issuer, issueParams(entry, params), { replacing }));
      const record = (made = { ...prepared.record, managed: true });
      const recordFile = recordPath(record.issuer, record.serial);
      writes.push(...prepared.writes.map((write) => (write.path === recordFile ? recordWrite(record) : write)));
      warnings.push(...prepared.result.warnings.map((warning) => `${entry.name}: ${warning}`));
      summary = prepared.summary.replace(/^Issue/, verb(action));
      details.push(...prepared.details);
      Object.assign(trailers, { 'Certified-Serial': record.serial, 'Certified-Fingerprint': record.fingerprint });
    }
  }
  const message = commitMessage({ summary, commandLine: params.commandLine, details, trailers });
  return { change: { message, writes, moves }, revoked, issued: entry ? 1 : 0, ...(made ? { record: made } : {}), ...(firstCrl ? { crl: firstCrl } : {}) };
}

function issueParams(entry: ManifestEntry, params: { password?: string; now: Date }): IssueJob['params'] {
  return {
    name: entry.name,
    subject: { CN: entry.cn },
    sans: entry.sans,
    profile: entry.profile === 'ca' ? 'server+client' : entry.profile,
    key: entry.key,
    days: entry.days,
    ...(params.password ? { password: params.password } : {}),
    now: params.now,
  };
}

function verb(action: PlanAction): string {
  return { issue: 'Issue', renew: 'Renew', reissue: 'Reissue', revoke: 'Revoke' }[action.kind];
}

/** The store writes in parallel: when a path is written twice (a CRL), keep the last content. */
function lastWritePerPath(writes: FileWrite[]): FileWrite[] {
  return [...new Map(writes.map((write) => [write.path, write])).values()];
}

/**
 * Puts `record` in place of the one of its serial. `positions` indexes each issuer's list by
 * serial, made on first use: a reissue of thousands of certificates replaces thousands of records.
 */
function replaceRecord(records: Map<string, CertificateRecord[]>, positions: Map<string, Map<string, number>>, record: CertificateRecord): void {
  const list = records.get(record.issuer) ?? [];
  let index = positions.get(record.issuer);
  if (!index) positions.set(record.issuer, (index = new Map(list.map((known, at) => [known.serial, at]))));
  const at = index.get(record.serial);
  if (at !== undefined) {
    list[at] = record;
  } else {
    index.set(record.serial, list.length);
    list.push(record);
  }
  records.set(record.issuer, list);
}

/** The single commit of a whole apply: counts in the summary, one line per action below. */
function applyMessage(plan: Plan, built: Built[], commandLine: string): string {
  const counts = (['issue', 'renew', 'reissue', 'revoke'] as const)
    .map((kind) => [kind, plan.actions.filter((action) => action.kind === kind).length] as const)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${count} ${{ issue: 'issued', renew: 'renewed', reissue: 'reissued', revoke: 'revoked' }[kind]}`);
  return commitMessage({
    summary: `Apply ${MANIFEST_FILE}: ${counts.join(', ')}`,
    commandLine,
    details: built.map((b) => b.change.message.split('\n')[0] ?? ''),
    trailers: { 'Certified-Action': 'apply', 'Certified-Changes': String(plan.actions.length) },
  });
}
