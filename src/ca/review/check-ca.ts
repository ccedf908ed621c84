import type { CheckedView } from './check-certificates.js';
import type { KeyComparison } from '../../pki/keys.js';
import type { CaStore } from '../../store/ca-store.js';
import { gitGrepTracked } from '../../store/git.js';
import { CERTS_DIR, CROSS_NAME, INTERMEDIATE_NAME, OLD_ROOT_NAME, PRIVATE_DIR, RECORDS_DIR, ROOTS_FILE, ROOT_NAME, certPath, recordPath } from '../../store/layout.js';
import { parseRecord, type CertificateRecord } from '../../store/records.js';
import { loadConfig } from '../ca-files.js';
import { crlFileOf } from '../config.js';
import { IssuerRevocations } from '../issuer-revocations.js';
import { CertificateChecker, type SignaturePair } from './check-certificates.js';
import { checkCrls } from './check-crls.js';
import { checkRevokedIndex } from './check-revoked-index.js';
import { checkKeys } from './check-keys.js';
import { checkTokenKeys, type TokenKeyCheck } from './check-token-keys.js';
import { noPassword, type AskPassword } from '../passwords.js';
import { finding, sortFindings, type Finding, type FindingCode } from './check-findings.js';
import { ROTATION_NAMES, changesSince, scopeOfChanges, scopePaths } from './check-scope.js';
import type { TextPart } from '../text.js';
import { checkProfile } from './check-profile.js';
import { checkRecordFields, checkRecordPlace } from './check-records.js';
import { checkChainFile, expectedChains, type NamedView } from './check-chains.js';
import { alternativeChains, caTwins, endsAtOldRoot } from './check-rotation.js';

export interface CheckResult {
  findings: Finding[];
  /** Encrypted keys whose structure was read but which could not be compared with their certificates (no password is asked). */
  uncheckedKeys: string[];
  /** CA keys on PKCS#11 tokens, each compared with its certificate or not (the token out of reach); absent when there are none. */
  tokenKeys?: TokenKeyCheck[];
  certificates: number;
  records: number;
  crls: number;
  /** While or after a root rotation: certificates whose chain files still lead to the old root (renew moves them). */
  underOldRoot?: string[];
  /** With `since`: what was checked (the certificates and CRLs the changes can affect), or why the whole CA was. */
  scope?: CheckedScope;
}

/** The steps of a check that take long: decoding the certificates (and comparing their keys), then verifying their signatures. */
export type CheckStep = 'read' | 'verify';

export interface CheckCaOptions {
  now?: Date;
  askPassword?: AskPassword;
  since?: string;
  /** Hears how many certificates each step has done, of how many. */
  onProgress?: (done: number, total: number, step: CheckStep) => void;
}

/** What `check --since` checked: the changed files and the certificates and CRLs they affect, or the reason for a full check. */
export type CheckedScope = { since: string; changed: string[] } & ({ certificates: string[]; crls: string[] } | { fallback: string });

/** Findings about the CA directory as a whole, which a scoped check reports as a full one does. */
const ALWAYS_REPORTED: ReadonlySet<FindingCode> = new Set(['pending-change', 'git-unavailable']);

/** An unencrypted PEM private key header, PKCS#8 or traditional (the text is built, never written out). */
const PLAINTEXT_KEY_PATTERN = ['BEGIN', ' (RSA |EC |DSA |OPENSSH )?', 'PRIVATE KEY'].join('');

/**
 * Consistency and policy of the CA directory, for CI: certificates and records match one to one,
 * certificates verify against their issuers and follow the profile, CRLs are signed, fresh and
 * list exactly the revoked records, and git tracks no unencrypted private key. Reads, never writes.
 */
export async function checkCa(store: CaStore, options: CheckCaOptions = {}): Promise<CheckResult> {
  const config = await loadConfig(store);
  const now = options.now ?? new Date();
  const findings: Finding[] = [];
  findings.push(...(await pendingChangeFindings(store)));
  const changes = options.since === undefined ? undefined : changesSince(store, options.since);
  // Handled when awaited below; until then git runs while the records are read.
  changes?.catch(() => undefined);
  const allNames = (await store.list(CERTS_DIR))
    .filter((file) => file.endsWith('.crt') && !file.endsWith('.chain.crt') && `${CERTS_DIR}/${file}` !== ROOTS_FILE)
    .map((file) => file.slice(0, -'.crt'.length));
  // A full check decodes every certificate: the worker threads start on that while this thread reads the records.
  let checker = changes ? undefined : await CertificateChecker.start(store, allNames.length);
  try {
    const loading = checker && loadCertificates(checker, allNames, findings, counter('read', options.onProgress));
    // Handled when awaited below.
    loading?.catch(() => undefined);
    const { records, paths } = await loadAllRecords(store, findings);
    findings.push(...(await checkRevokedIndex(store, paths)));
    const scoped = changes && (await scopeOfChanges(store, config, changes, records, paths));
    const scope = scoped && 'names' in scoped ? scoped : undefined;
    // A scoped check decodes its certificates and every CA (the issuers and chains they are judged against).
    const issuers = new Set(records.map((record) => record.issuer));
    const names = allNames.filter((name) => !scope || scope.names.has(name) || issuers.has(name) || ROTATION_NAMES.has(name));
    checker ??= await CertificateChecker.start(store, names.length);
    const { certificates, keys } = await (loading ?? loadCertificates(checker, names, findings, counter('read', options.onProgress)));
    const crlPath = (name: string) => crlFileOf(config, name);
    const twins = caTwins(certificates);
    const cross = config.rootRotation?.bridge ? certificates.get(CROSS_NAME) : undefined;
    const rootChains = new Map(cross ? [[ROOT_NAME, [{ name: CROSS_NAME, view: cross }]]] : []);
    const inScope = scope ? (name: string) => scope.names.has(name) : () => true;
    const checked = await checkCertificates(store, checker, certificates, records, paths, { twins, rootChains }, inScope, counter('verify', options.onProgress));
    checked.signatures.catch(() => undefined);
    findings.push(...checked.findings);
    // Another certificate of a CA (its certificate under the old root, a cross-certificate) shares that CA's CRL.
    const sharingCrl = new Set<string>();
    for (const [name, others] of twins) {
      if (!(await store.exists(crlPath(name))) && (await Promise.all(others.map((other) => store.exists(crlPath(other))))).some(Boolean)) sharingCrl.add(name);
    }
    const crls = await checkCrls(store, new Map([...certificates].filter(([name]) => !sharingCrl.has(name) && (!scope || scope.crls.has(name)))), records, now, findings, crlPath);
    let trackedKeys: string[] = [];
    try {
      trackedKeys = await gitGrepTracked(store.dir, PLAINTEXT_KEY_PATTERN, scope?.changed);
    } catch (error) {
      // Without git, check cannot tell whether a key is committed in the clear: that is no pass.
      const reason = (error as Error).message.split('\n')[0] ?? '';
      findings.push(finding(PRIVATE_DIR, 'git-unavailable', `could not verify that git tracks no unencrypted private key, because git failed (${reason}): install git or put it on PATH, and run check in the CA's git repository`));
    }
    for (const path of trackedKeys) {
      findings.push(finding(path, 'plaintext-key-tracked', 'an unencrypted private key is tracked by git: remove it from git ("git rm --cached") and from the history, and replace the key'));
    }
    const checkedKeys = await checkKeys(store, certificates, keys, new Set(trackedKeys), inScope);
    findings.push(...checkedKeys.findings);
    const tokens = await checkTokenKeys(config, scope ? new Map([...certificates].filter(([name]) => inScope(name))) : certificates, options.askPassword ?? noPassword);
    findings.push(...tokens.findings);
    findings.push(...(await checked.signatures));
    const inScopePaths = scope && scopePaths(scope, config, paths);
    const reported = inScopePaths ? findings.filter((item) => inScopePaths.has(item.path) || ALWAYS_REPORTED.has(item.code)) : findings;
    const underOldRoot = checked.underOldRoot.filter(inScope);
    return {
      findings: sortFindings(reported),
      uncheckedKeys: checkedKeys.unchecked,
      ...(tokens.tokenKeys.length ? { tokenKeys: tokens.tokenKeys } : {}),
      certificates: scope ? [...certificates.keys()].filter(inScope).length : certificates.size,
      records: inScopePaths ? [...paths.values()].filter((path) => inScopePaths.has(path)).length : records.length,
      crls,
      ...(underOldRoot.length ? { underOldRoot } : {}),
      ...(scoped && 'fallback' in scoped ? { scope: scoped } : {}),
      ...(scope ? { scope: { since: scope.since, changed: scope.changed, certificates: [...scope.names].filter((name) => certificates.has(name)).sort(), crls: [...scope.crls].filter((name) => certificates.get(name)?.isCa).map(crlPath).sort() } } : {}),
    };
  } finally {
    await checker?.close();
  }
}

/** A change a killed command left half-made: what check sees is not the CA until it is finished or rolled back. */
async function pendingChangeFindings(store: CaStore): Promise<Finding[]> {
  const pending = await store.pendingChange();
  if (!pending) return [];
  if (pending.unreadable !== undefined) {
    return [finding(pending.path, 'pending-change', `the journal of an interrupted change is unreadable (${pending.unreadable}): look at "git status", commit or remove what that change left, then delete "${pending.path}"`)];
  }
  return [finding(pending.path, 'pending-change', `an interrupted change ("${pending.summary}") was neither committed nor rolled back, so its files are half-made: run any command that changes the CA (e.g. "certified crl") to finish or roll it back`)];
}

/** Each certificate against its record, its issuer (signature), the profile and its chain file; each valid record against its certificate. */
async function checkCertificates(
  store: CaStore,
  checker: CertificateChecker,
  certificates: Map<string, CheckedView>,
  records: CertificateRecord[],
  paths: Map<CertificateRecord, string>,
  rotation: { twins: Map<string, string[]>; rootChains: ReadonlyMap<string, NamedView[]> },
  inScope: (name: string) => boolean,
  progress: Counter,
): Promise<{ findings: Finding[]; underOldRoot: string[]; signatures: Promise<Finding[]> }> {
  const findings: Finding[] = [];
  const underOldRoot: string[] = [];
  const signed: { name: string; issuerName: string; pair: SignaturePair }[] = [];
  const bySerial = new Map(records.map((record) => [`${record.serial}`, record]));
  const issuers = new IssuerRevocations(records);
  const replacement = records.some((record) => record.name === INTERMEDIATE_NAME && record.status === 'valid' && !issuers.revokedAbove(record)) ? INTERMEDIATE_NAME : 'CA';
  const revokedAbove = (view: CheckedView) => {
    const record = bySerial.get(view.serial);
    return record?.status === 'valid' ? issuers.revokedAbove(record) : undefined;
  };
  const issuerName = (name: string) => {
    const view = certificates.get(name);
    if (!view || revokedAbove(view)) return undefined;
    return issuerOf(name, view, bySerial.get(view.serial), certificates)?.name;
  };
  const chains = expectedChains(certificates, issuerName, rotation.rootChains);
  const checkChain = (name: string, view: CheckedView): Finding[] => {
    // The cross-certificate is a link of other chains, not served on its own.
    if (view.selfSigned || name === CROSS_NAME) return [];
    const expected = chains.get(name);
    const found = checkChainFile(store, name, view, expected);
    const chain = found.length || !expected ? undefined : expected;
    const alternative = chain ?? (expected ? alternativeChains(expected, rotation.twins, chains).find((other) => checkChainFile(store, name, view, other).length === 0) : undefined);
    // The old root's own certificates (NAME.old, the cross-certificate) are where such chains lead, not what is under it.
    const underOld = bySerial.get(view.serial)?.issuer !== OLD_ROOT_NAME && alternative !== undefined && endsAtOldRoot(alternative, issuerName);
    if (underOld) underOldRoot.push(name);
    return alternative ? [] : found;
  };
  // The signatures first: the worker threads verify them (most of a large check's time) while this
  // thread makes the other checks.
  const issuerOfView = new Map<string, { name: string; view: CheckedView } | undefined>();
  for (const [name, view] of certificates) {
    if (revokedAbove(view)) continue;
    const issuer = issuerOf(name, view, bySerial.get(view.serial), certificates);
    issuerOfView.set(name, issuer);
    if (issuer) signed.push({ name, issuerName: issuer.name, pair: [view.pem, issuer.view.pem] });
  }
  const verifying = checker.verify(signed.map((entry) => entry.pair), progress(signed.length));
  // Handled when awaited (signatures); a failure of the checks below must not leave it unhandled.
  verifying.catch(() => undefined);
  let done = 0;
  for (const [name, view] of certificates) {
    // Now and then, let the event loop hand the next chunk to a worker thread that is done with its own.
    if (++done % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    const path = certPath(name);
    const record = bySerial.get(view.serial);
    const revokedCa = revokedAbove(view);
    if (record) findings.push(...checkRecordFields(name, view, record, paths.get(record) ?? recordPath(record.issuer, record.serial)));
    const chain = checkChain(name, view);
    if (revokedCa) {
      const when = revokedCa.revocation?.date.slice(0, 10) ?? '?';
      findings.push(finding(path, 'issuer-revoked', [
        `the CA "${revokedCa.name}" above it (serial ${revokedCa.serial}) was revoked on ${when}, so it is no longer trusted: move it to another CA with "certified renew `,
        { option: 'issuer', value: replacement },
        ' ',
        { option: 'name', value: name },
        '", or revoke it',
      ]));
      findings.push(...chain);
      continue;
    }
    if (!record) findings.push(finding(path, 'no-record', `serial ${view.serial} has no record in ${RECORDS_DIR}/`));
    else if (record.name !== name) findings.push(finding(path, 'record-mismatch', `its record ${recordPath(record.issuer, record.serial)} names "${record.name}"`));
    else if (record.status === 'revoked') findings.push(finding(path, 'revoked-in-certs', `serial ${view.serial} is revoked but the certificate is still in ${CERTS_DIR}/`));
    const issuer = issuerOfView.get(name);
    if (!issuer) findings.push(finding(path, 'no-issuer', `its issuer "${record?.issuer ?? view.issuer.CN ?? '?'}" is not in ${CERTS_DIR}/`));
    findings.push(...checkProfile(name, view, record, issuer?.view));
    findings.push(...chain);
  }
  const duplicates = duplicateNames(records);
  for (const [name, group] of duplicates) {
    const inCerts = certificates.get(name)?.serial;
    const spare = group.filter((record) => record.serial !== inCerts);
    const serials = group.map((record) => `${record.serial}${record.serial === inCerts ? ` (in ${CERTS_DIR}/)` : ''}`).join(', ');
    const fix = spare.flatMap((record, index): TextPart[] => [index ? ', then "certified revoke ' : '"certified revoke ', { option: 'serial', value: record.serial }, '"']);
    findings.push(finding(certPath(name), 'duplicate-name', [`${group.length} valid records name "${name}" (serials ${serials}), as after a merge of two branches that issued it: revoke the one${spare.length > 1 ? 's' : ''} not in use with `, ...fix]));
  }
  for (const record of records) {
    if (record.status !== 'valid' || duplicates.has(record.name) || !inScope(record.name)) continue;
    const view = certificates.get(record.name);
    if (!view || view.serial !== record.serial) {
      const where = view ? `"${certPath(record.name)}" holds serial ${view.serial}` : `"${certPath(record.name)}" is missing`;
      findings.push(finding(recordPath(record.issuer, record.serial), 'missing-certificate', `the record of "${record.name}" is valid but ${where}`));
    }
  }
  const signatures = verifying.then((verified) =>
    signed.flatMap(({ name, issuerName }, index) => (verified[index] ? [] : [finding(certPath(name), 'bad-signature', `the signature does not verify against its issuer "${certPath(issuerName)}"`)])),
  );
  return { findings, underOldRoot, signatures };
}

/** Names that more than one valid record holds, with those records. */
function duplicateNames(records: CertificateRecord[]): Map<string, CertificateRecord[]> {
  const byName = new Map<string, CertificateRecord[]>();
  for (const record of records) {
    if (record.status === 'valid') byName.set(record.name, [...(byName.get(record.name) ?? []), record]);
  }
  return new Map([...byName].filter(([, group]) => group.length > 1));
}

// Files are read with store.readTexts, one at a time so that an unreadable one is a finding: for
// thousands of small files, synchronous reads are several times faster than awaited ones.
async function loadAllRecords(store: CaStore, findings: Finding[]): Promise<{ records: CertificateRecord[]; paths: Map<CertificateRecord, string> }> {
  const paths: string[] = [];
  for (const issuer of await store.list(RECORDS_DIR)) {
    for (const file of await store.list(`${RECORDS_DIR}/${issuer}`)) {
      if (file.endsWith('.json')) paths.push(`${RECORDS_DIR}/${issuer}/${file}`);
    }
  }
  const records: CertificateRecord[] = [];
  const places = new Map<CertificateRecord, string>();
  for (const [index, path] of paths.entries()) {
    // Now and then, let the event loop go on with git (check --since asks it while this reads) and the
    // worker threads (a full check decodes the certificates meanwhile).
    if (index % 200 === 199) await new Promise((resolve) => setImmediate(resolve));
    try {
      const record = parseRecord(store.readTexts([path])[0] ?? '');
      records.push(record);
      places.set(record, path);
      findings.push(...checkRecordPlace(record, path));
    } catch (error) {
      findings.push(finding(path, 'unreadable', `not a record: ${(error as Error).message}`));
    }
  }
  return { records, paths: places };
}

/** Each certificate decoded, and how the key file of its name compares with it (see inspectCertificates). */
async function loadCertificates(
  checker: CertificateChecker,
  names: string[],
  findings: Finding[],
  progress: Counter,
): Promise<{ certificates: Map<string, CheckedView>; keys: Map<string, KeyComparison> }> {
  const certificates = new Map<string, CheckedView>();
  const keys = new Map<string, KeyComparison>();
  const inspected = await checker.inspect(names, progress(names.length));
  names.forEach((name, index) => {
    const result = inspected[index];
    if (result && 'view' in result) {
      certificates.set(name, result.view);
      if (result.key) keys.set(name, result.key);
    } else findings.push(finding(certPath(name), 'unreadable', `not a certificate: ${result?.error ?? 'not decoded'}`));
  });
  return { certificates, keys };
}

/** Makes, for a step of `total` items, the callback that adds each chunk done to its count (reported at 0 first; an empty step not at all). */
type Counter = (total: number) => ((size: number) => void) | undefined;

function counter(step: CheckStep, onProgress: CheckCaOptions['onProgress']): Counter {
  return (total) => {
    if (!onProgress || total === 0) return undefined;
    let done = 0;
    onProgress(0, total, step);
    return (size) => onProgress((done += size), total, step);
  };
}

/** The issuer by the record's name; a self-signed certificate is its own; else by key identifier. */
function issuerOf(
  name: string,
  view: CheckedView,
  record: CertificateRecord | undefined,
  certificates: Map<string, CheckedView>,
): { name: string; view: CheckedView } | undefined {
  if (view.selfSigned) return { name, view };
  const byRecord = record ? certificates.get(record.issuer) : undefined;
  if (record && byRecord) return { name: record.issuer, view: byRecord };
  for (const [candidate, other] of certificates) {
    if (other.isCa && other.subjectKeyId !== undefined && other.subjectKeyId === view.authorityKeyId) return { name: candidate, view: other };
  }
  return undefined;
}
