import type { CheckedView } from './check-certificates.js';
import type { KeyComparison } from '../../pki/keys.js';
import type { CaStore } from '../../store/ca-store.js';
import { gitGrepTracked, gitIgnores, gitTrackedSymlinks } from '../../store/git.js';
import { CERTS_DIR, CROSS_NAME, GITIGNORE_FILE, INTERMEDIATE_NAME, OLD_ROOT_NAME, PRIVATE_DIR, RECORDS_DIR, ROOTS_FILE, ROOT_NAME, certPath, keyPath, recordPath, revokedKeyPath } from '../../store/layout.js';
import { parseRecord, type CertificateRecord } from '../../store/records.js';
import { loadConfig } from '../ca-files.js';
import { crlFileOf, type CaConfig } from '../config.js';
import { CertificateJudge, keepInspected, type DecodedCertificate } from './check-each-certificate.js';
import { CertificateChecker, type SignaturePair } from './check-certificates.js';
import { checkCrls } from './check-crls.js';
import { checkHistory } from './check-history.js';
import { checkRevokedIndex } from './check-revoked-index.js';
import { checkKeys } from './check-keys.js';
import { checkTokenKeys, type TokenKeyCheck } from './check-token-keys.js';
import { noPassword, type AskPassword } from '../passwords.js';
import { finding, sortFindings, type Finding, type FindingCode } from './check-findings.js';
import { ROTATION_NAMES, changesSince, scopePaths } from './check-scope.js';
import type { TextPart } from '../text.js';
import { checkDiffHidden } from './check-attributes.js';
import { loadAllRecords, loadRecordsSince, scanRecords, type LoadedRecords } from './check-load-records.js';
import { caTwins } from './check-rotation.js';

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
const ALWAYS_REPORTED: ReadonlySet<FindingCode> = new Set(['pending-change', 'git-unavailable', 'diff-hidden']);

/** Where unencrypted keys go (a leaf's, a revoked one's): git must ignore both (see GITIGNORE_CONTENT). */
const IGNORE_PROBES = [keyPath('certified-check'), revokedKeyPath('certified-check', '00')];

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
  // Handled when awaited below; until then git runs while this thread goes on.
  changes?.catch(() => undefined);
  // Beside that, git tells which records name what, so that --since reads only those it needs.
  const scanning = changes && scanRecords(store);
  // What git is asked about keys and links depends only on the files changed (or none, for a full check).
  // Hidden diffs: of every file, or of the changed ones while no .gitattributes changed (see checkDiffHidden).
  const hiding = changes ? changes.then((changed) => checkDiffHidden(store, changed)) : checkDiffHidden(store);
  hiding.catch(() => undefined);
  const ignoring = gitIgnores(store.dir, IGNORE_PROBES);
  ignoring.catch(() => undefined);
  const gitLooks = (paths?: string[]) => {
    const looks = Promise.all([gitGrepTracked(store.dir, PLAINTEXT_KEY_PATTERN, paths), gitTrackedSymlinks(store.dir, paths)]);
    looks.catch(() => undefined);
    return looks;
  };
  // Asked among the changed files as soon as they are known, while the records are read; a full check asks again.
  const amongChanged = changes?.then((changed) => gitLooks(changed.paths));
  amongChanged?.catch(() => undefined);
  const isCertificateFile = (file: string) => file.endsWith('.crt') && !file.endsWith('.chain.crt') && `${CERTS_DIR}/${file}` !== ROOTS_FILE;
  let listed: Promise<string[]> | undefined;
  const listNames = () => (listed ??= store.list(CERTS_DIR).then((files) => files.filter(isCertificateFile).map((file) => file.slice(0, -'.crt'.length))));
  // A full check decodes every certificate: the worker threads start while this thread reads the records.
  let checker = changes ? undefined : await CertificateChecker.start(store, (await listNames()).length);
  try {
    const loaded = changes && scanning ? await loadRecordsSince(store, config, changes, scanning, findings) : await loadAllRecords(store, findings);
    const { records, paths, issuers, scoped } = loaded;
    findings.push(...(await checkRevokedIndex(store, paths)));
    const scope = scoped && 'names' in scoped ? scoped : undefined;
    if (changes) findings.push(...(await checkHistory(store, await changes, paths, now)));
    // A scoped check decodes its certificates and every CA (the issuers and chains they are judged against).
    const names = scope ? await certificatesAmong(store, [...scope.names, ...issuers, ...ROTATION_NAMES], isCertificateFile) : await listNames();
    // git looks for unencrypted keys and links while the certificates are checked.
    const looking = scope && amongChanged ? amongChanged : gitLooks();
    checker ??= await CertificateChecker.start(store, names.length);
    const crlPath = (name: string) => crlFileOf(config, name);
    const inScope = scope ? (name: string) => scope.names.has(name) : () => true;
    const checked = await checkCertificates(store, checker, config, names, { records, paths, issuers, ...(loaded.recordOfSerial ? { recordOfSerial: loaded.recordOfSerial } : {}) }, inScope, options.onProgress);
    checked.signatures.catch(() => undefined);
    findings.push(...checked.findings);
    const { certificates, decoded, keys, twins } = checked;
    // Another certificate of a CA (its certificate under the old root, a cross-certificate) shares that CA's CRL.
    const sharingCrl = new Set<string>();
    for (const [name, others] of twins) {
      if (!(await store.exists(crlPath(name))) && (await Promise.all(others.map((other) => store.exists(crlPath(other))))).some(Boolean)) sharingCrl.add(name);
    }
    const crls = await checkCrls(store, new Map([...certificates].filter(([name]) => !sharingCrl.has(name) && (!scope || scope.crls.has(name)))), records, now, findings, crlPath);
    let trackedKeys: string[] = [];
    let links: string[] = [];
    let ignored: boolean[] = [];
    let hidden: Finding[] = [];
    try {
      [[trackedKeys, links], ignored, hidden] = await Promise.all([looking, ignoring, hiding]);
    } catch (error) {
      // Without git, check cannot tell whether a key is committed in the clear: that is no pass.
      const reason = (error as Error).message.split('\n')[0] ?? '';
      findings.push(finding(PRIVATE_DIR, 'git-unavailable', `could not verify that git tracks no unencrypted private key, because git failed (${reason}): install git or put it on PATH, and run check in the CA's git repository`));
    }
    if (ignored.includes(false)) {
      findings.push(finding(GITIGNORE_FILE, 'keys-not-ignored', `git no longer ignores unencrypted private keys (${IGNORE_PROBES.join(', ')}), so the next "git add" of private/ commits them: put back the line "/${PRIVATE_DIR}/**/*.key" certified wrote`));
    }
    findings.push(...hidden);
    for (const path of links) {
      findings.push(finding(path, 'symlink', 'is committed as a symbolic link, which certified never makes: check read the file it points to, which git does not hold; commit the file itself in its place'));
    }
    for (const path of trackedKeys) {
      findings.push(finding(path, 'plaintext-key-tracked', 'an unencrypted private key is tracked by git: remove it from git ("git rm --cached") and from the history, and replace the key'));
    }
    const checkedKeys = await checkKeys(store, decoded, keys, new Set(trackedKeys), inScope);
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
      certificates: scope ? [...decoded.keys()].filter(inScope).length : decoded.size,
      records: inScopePaths ? [...paths.values()].filter((path) => inScopePaths.has(path)).length : records.length,
      crls,
      ...(underOldRoot.length ? { underOldRoot } : {}),
      ...(scoped && 'fallback' in scoped ? { scope: scoped } : {}),
      ...(scope ? { scope: { since: scope.since, changed: scope.changed, certificates: [...scope.names].filter((name) => decoded.has(name)).sort(), crls: [...scope.crls].filter((name) => decoded.get(name)?.isCa).map(crlPath).sort() } } : {}),
    };
  } finally {
    await checker?.close();
  }
}

/**
 * Of `names`, those with a certificate in certs/ (one that `isCertificateFile` takes), in the order
 * of their files there: what listing thousands of certificates and keeping those would give.
 */
async function certificatesAmong(store: CaStore, names: string[], isCertificateFile: (file: string) => boolean): Promise<string[]> {
  const files = [...new Set(names)].filter((name) => typeof name === 'string' && !name.includes('/')).map((name) => `${name}.crt`).filter(isCertificateFile);
  const present = await Promise.all(files.map((file) => store.listed(`${CERTS_DIR}/${file}`)));
  return files.filter((_, index) => present[index]).sort().map((file) => file.slice(0, -'.crt'.length));
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

/** What checkCertificates found, and what the checks after it need of the certificates. */
interface CheckedCertificates {
  findings: Finding[];
  underOldRoot: string[];
  /** The bad-signature findings, when the last signatures are verified. */
  signatures: Promise<Finding[]>;
  /** Every certificate that may issue or be a link of a chain (the CAs, what a record names as an issuer), decoded; with `complete`, every certificate. */
  certificates: Map<string, CheckedView>;
  /** Every certificate decoded, by name. */
  decoded: Map<string, DecodedCertificate>;
  keys: Map<string, KeyComparison>;
  twins: Map<string, string[]>;
}

const CA_PROFILES: ReadonlySet<string> = new Set(['root', 'ca', 'sub-ca']);

/**
 * Each certificate against its record, its issuer (signature), the profile and its chain file;
 * each valid record against its certificate. The certificates that may issue (by the records, the
 * rotation and token-key names) are decoded first; then the others go through in chunks, each
 * checked as it comes back from a worker thread (which verified its signature in the same pass)
 * and let go, so that at most a few chunks' views are alive at once. A CA found among those others
 * (a CA certificate no record names) could issue what was already checked: then every certificate
 * is decoded again and kept, and each checked with all of them in view.
 */
async function checkCertificates(
  store: CaStore,
  checker: CertificateChecker,
  config: CaConfig,
  names: string[],
  loaded: LoadedRecords,
  inScope: (name: string) => boolean,
  onProgress: CheckCaOptions['onProgress'],
): Promise<CheckedCertificates> {
  const { records } = loaded;
  const issuing = new Set([
    ...loaded.issuers,
    ...records.filter((record) => CA_PROFILES.has(record.profile)).map((record) => record.name),
    ...ROTATION_NAMES,
    ...Object.keys(config.tokenKeys ?? {}),
  ]);
  return (await checkCertificatesIn(store, checker, config, names, (name) => issuing.has(name), loaded, inScope, onProgress)) ??
    // A CA no record names: check everything with every certificate in view.
    (await checkCertificatesIn(store, checker, config, names, () => true, loaded, inScope, onProgress))!;
}

/** checkCertificates with the certificates `first` holds decoded first; undefined when a CA is found among the others. */
async function checkCertificatesIn(
  store: CaStore,
  checker: CertificateChecker,
  config: CaConfig,
  names: string[],
  first: (name: string) => boolean,
  loaded: LoadedRecords,
  inScope: (name: string) => boolean,
  onProgress: CheckCaOptions['onProgress'],
): Promise<CheckedCertificates | undefined> {
  const { records, paths } = loaded;
  const kept = { findings: [] as Finding[], decoded: new Map<string, DecodedCertificate>(), keys: new Map<string, KeyComparison>() };
  const { findings } = kept;
  const underOldRoot: string[] = [];
  const read = counter('read', onProgress)(names.length);
  const firstNames = names.filter(first);
  const certificates = new Map<string, CheckedView>();
  const firstResults = await checker.inspect(firstNames, read);
  firstNames.forEach((name, index) => {
    const view = keepInspected(name, firstResults[index], kept);
    if (view) certificates.set(name, view);
  });
  const twins = caTwins(certificates);
  const cross = config.rootRotation?.bridge ? certificates.get(CROSS_NAME) : undefined;
  const rootChains = new Map(cross ? [[ROOT_NAME, [{ name: CROSS_NAME, view: cross }]]] : []);
  const judge = new CertificateJudge(store, certificates, records, paths, { twins, rootChains }, loaded.recordOfSerial);
  const signed: { name: string; issuerName: string; valid?: boolean; pair?: SignaturePair }[] = [];
  const accept = (name: string, view: CheckedView, signature?: { pem: string; valid: boolean }) => {
    const judged = judge.judge(name, view);
    findings.push(...judged.findings);
    if (judged.underOldRoot) underOldRoot.push(name);
    if (!judged.issuer) return;
    const issuerPem = judged.issuer.view.pem;
    // Verified in the pass that decoded it when the worker picked the same issuer; else now.
    signed.push({ name, issuerName: judged.issuer.name, ...(signature && signature.pem === issuerPem ? { valid: signature.valid } : { pair: [view.pem, issuerPem] }) });
  };
  for (const [name, view] of certificates) accept(name, view);
  const hints = [...certificates.values()].filter((view) => view.isCa).map((view) => ({ pem: view.pem, ...(view.subjectKeyId ? { subjectKeyId: view.subjectKeyId } : {}) }));
  let lateCa = false;
  await checker.inspectEach(names.filter((name) => !first(name)), hints, (chunk, results) => {
    chunk.forEach((name, index) => {
      const result = results[index];
      const view = keepInspected(name, result, kept);
      if (view?.isCa) lateCa = true;
      if (!view || lateCa || !result || !('view' in result)) return;
      const signature = result.signature && { pem: result.signature.issuer === -1 ? view.pem : hints[result.signature.issuer]!.pem, valid: result.signature.valid };
      accept(name, view, signature);
    });
    read?.(chunk.length);
  });
  if (lateCa) return undefined;
  const duplicates = duplicateNames(records);
  for (const [name, group] of duplicates) {
    const inCerts = kept.decoded.get(name)?.serial;
    const spare = group.filter((record) => record.serial !== inCerts);
    const serials = group.map((record) => `${record.serial}${record.serial === inCerts ? ` (in ${CERTS_DIR}/)` : ''}`).join(', ');
    const fix = spare.flatMap((record, index): TextPart[] => [index ? ', then "certified revoke ' : '"certified revoke ', { option: 'serial', value: record.serial }, '"']);
    findings.push(finding(certPath(name), 'duplicate-name', [`${group.length} valid records name "${name}" (serials ${serials}), as after a merge of two branches that issued it: revoke the one${spare.length > 1 ? 's' : ''} not in use with `, ...fix]));
  }
  for (const record of records) {
    if (record.status !== 'valid' || duplicates.has(record.name) || !inScope(record.name)) continue;
    const view = kept.decoded.get(record.name);
    if (!view || view.serial !== record.serial) {
      const where = view ? `"${certPath(record.name)}" holds serial ${view.serial}` : `"${certPath(record.name)}" is missing`;
      findings.push(finding(recordPath(record.issuer, record.serial), 'missing-certificate', `the record of "${record.name}" is valid but ${where}`));
    }
  }
  // The signatures the first pass could not verify (the first certificates', any other issuer's), while the checks after this go on.
  const pending = signed.filter((entry) => entry.pair);
  const verifyProgress = counter('verify', onProgress)(signed.length);
  verifyProgress?.(signed.length - pending.length);
  const verifying = checker.verify(pending.map((entry) => entry.pair!), verifyProgress);
  verifying.catch(() => undefined);
  const signatures = verifying.then((verified) => {
    pending.forEach((entry, index) => (entry.valid = verified[index]));
    return signed.flatMap(({ name, issuerName, valid }) => (valid ? [] : [finding(certPath(name), 'bad-signature', `the signature does not verify against its issuer "${certPath(issuerName)}"`)]));
  });
  // In the order of the names, as when every certificate was checked in one loop.
  return { findings, underOldRoot: underOldRoot.sort(), signatures, certificates, decoded: kept.decoded, keys: kept.keys, twins };
}

/** Names that more than one valid record holds, with those records. */
function duplicateNames(records: CertificateRecord[]): Map<string, CertificateRecord[]> {
  const byName = new Map<string, CertificateRecord[]>();
  for (const record of records) {
    if (record.status === 'valid') byName.set(record.name, [...(byName.get(record.name) ?? []), record]);
  }
  return new Map([...byName].filter(([, group]) => group.length > 1));
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
