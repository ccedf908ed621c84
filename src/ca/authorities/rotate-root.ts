import { certificatePublicKey, isCaCertificate, type CertificateInfo } from '../../pki/certificate.js';
import { readCrlNumber } from '../../pki/crl.js';
import { readNameConstraints, type NameConstraintSet } from '../../pki/extensions.js';
import { describeKey, exportPrivateKey, generateKeyPair, type KeyPair, type KeySpec } from '../../pki/keys.js';
import { formatDn } from '../../pki/name.js';
import { readPemBlocks, toPem } from '../../pki/pem.js';
import type { Pkcs11Uri } from '../../pki/pkcs11-uri.js';
import type { DistinguishedName } from '../../pki/types.js';
import type { CaStore, FileWrite } from '../../store/ca-store.js';
import { CERTS_DIR, CONFIG_FILE, CRL_DIR, CROSS_NAME, INTERMEDIATE_NAME, OLD_ROOT_NAME, ROOTS_FILE, ROOT_NAME, certPath, chainPath, keyPath, recordPath } from '../../store/layout.js';
import { serializeRecord, type CertificateRecord } from '../../store/records.js';
import { loadCertificate, loadConfig } from '../ca-files.js';
import { buildCertificate } from '../certificate-builder.js';
import { recordWrite, toRecord } from '../certificate-record.js';
import { commitMessage, isoDate } from '../commit-message.js';
import { NEW_ROOT_CRL_PATH, crlDaysFor, crlFileOf, serializeConfig, type CaConfig, type TokenKeyRecord } from '../config.js';
import { CertifiedError, InvalidInputError } from '../errors.js';
import { loadIssuer, type Issuer } from '../load-issuer.js';
import { printable } from '../names.js';
import type { AskPassword } from '../passwords.js';
import { buildCrl, loadRecords, publishedCrl, type PublishedCrl } from '../revocation/generate-crl.js';
import { describeTokenKeyWithFingerprint, makeTokenCaKey, tokenKeyPair } from '../token-keys.js';
import { keyWrite } from './init-ca.js';
import { assertSubjectOfNoCa } from './create-sub-ca.js';

const DAY_MS = 86_400_000;

export interface RotateRootParams {
  /** Attributes of the new root; the rest from the old root's subject (the CN gets the year when not given). */
  subject: DistinguishedName;
  /** Default: the old root's key type. */
  key?: KeySpec;
  /** The new root's key on a PKCS#11 token instead of a file: made there when the token has none of that name. */
  keyUri?: Pkcs11Uri;
  days: number;
  /** The new root's CRL URL; by default the old one's with root-ca.2.crl for root-ca.crl. */
  rootCrlUrl?: string;
  /** Asked for the old root's key (and its token's PIN). */
  askPassword: AskPassword;
  /** Encrypts the new root's key, and the old root's key as it moves to private/root-ca.old.key. Not with a token key. */
  newRootPassword?: string;
  commandLine: string;
  now?: Date;
}

export interface RotateRootResult {
  root: CertificateInfo;
  cross: CertificateInfo;
  intermediate: CertificateInfo;
  oldRoot: CertificateInfo;
  /** The CAs the old root had signed, now certified by the new root too (the intermediate first). */
  carried: string[];
  /** CA chain files that now end with the cross-certificate. */
  chains: string[];
  /** The URI of the new root's key when a token holds it. */
  keyOnToken?: string;
  warnings: string[];
  /** What records/ keeps of the certificates made: the new root, the cross-certificate, then each carried CA's under the new root. */
  records: CertificateRecord[];
  /** The old root's CRL, signed again, and the new root's first. */
  crls: PublishedCrl[];
  commit: string;
}

/** A CA the old root signed, carried over: the same name, subject and key, certified by the new root. */
export interface CarriedCa {
  name: string;
  record: CertificateRecord;
  certificate: CertificateInfo;
}

/** The old root must still be valid this long for a bridge to be worth making. */
const MIN_BRIDGE_DAYS = 1;
const SHORT_BRIDGE_DAYS = 30;

/**
 * Refuses what rotate-root cannot do, before any key or password is asked for: a rotation under
 * way, an old root still kept, no intermediate in use, files in the way, a root CRL URL whose
 * successor cannot be named, an old root about to expire. Returns the CAs the rotation carries over.
 */
export async function assertMayRotate(store: CaStore, params: { rootCrlUrl?: string; now?: Date }): Promise<CarriedCa[]> {
  const config = await loadConfig(store);
  if (config.rootRotation?.bridge) {
    throw new CertifiedError(`a root rotation is under way (since ${config.rootRotation.started.slice(0, 10)})`, {
      code: 'ROTATION_UNDER_WAY',
      hint: ['Finish it with "certified rotate-root ', { option: 'finish' }, '" once every client trusts the new root.'],
    });
  }
  if (config.rootRotation || (await store.exists(certPath(OLD_ROOT_NAME)))) {
    throw new CertifiedError(`the root was rotated before, and the root it replaced is still at "${certPath(OLD_ROOT_NAME)}"`, {
      code: 'OLD_ROOT_PRESENT',
      hint: 'A CA keeps one old root: rotating a second time is not supported yet. Make a new CA beside this one to replace the root again.',
    });
  }
  const carried = await carriedCas(store);
  const inTheWay = [certPath(CROSS_NAME), ROOTS_FILE, keyPath(OLD_ROOT_NAME), NEW_ROOT_CRL_PATH, ...carried.flatMap(({ name }) => [certPath(oldNameOf(name)), chainPath(oldNameOf(name))])];
  for (const path of inTheWay) {
    if (await store.exists(path)) {
      throw new CertifiedError(`"${path}" is in the way of the root rotation, which writes that file`, { code: 'NAME_TAKEN', hint: `Revoke or move what is there ("git mv ${path} ..."), then rotate the root.` });
    }
  }
  if (config.rootCrlUrl && !params.rootCrlUrl && !config.rootCrlUrl.endsWith(`/${ROOT_NAME}.crl`)) {
    throw new InvalidInputError(
      [`the root's CRL URL "${printable(config.rootCrlUrl)}" does not end in /${ROOT_NAME}.crl, so the new root's cannot be derived from it`],
      ['Give the new root its own with ', { option: 'rootCrlUrl' }, ' (the old root keeps publishing at the old one).'],
    );
  }
  const root = await loadCertificate(store, ROOT_NAME);
  const left = root ? (root.notAfter.getTime() - (params.now ?? new Date()).getTime()) / DAY_MS : 0;
  if (left < MIN_BRIDGE_DAYS) {
    throw new CertifiedError(`the root expires on ${root ? isoDate(root.notAfter) : '?'}, too soon to bridge clients to a new one`, {
      code: 'ROOT_EXPIRED',
      hint: 'Make a new CA beside this one and move clients to it ("Regenerate the whole CA" in the wiki).',
    });
  }
  return carried;
}

/**
 * A new root, a cross-certificate of its key by the old root, and a new certificate under the new
 * root for every CA the old root signed (the intermediate, sub-CAs, external CAs), in one commit.
 * Those CAs keep their keys and names, so their CRLs, ACME bindings and everything they issued stay
 * valid; chain files of CAs end with the cross-certificate so that clients trusting only the old
 * root still verify what is issued next. The old root becomes "root-ca.old": its certificate,
 * records and key (re-encrypted with the new root's password, so that one password signs both
 * roots' CRLs); it keeps publishing its CRL at crl/root-ca.crl, where its certificates point, and
 * the new root's is crl/root-ca.2.crl. A carried CA's old certificate becomes NAME.old.
 */
export async function rotateRoot(store: CaStore, params: RotateRootParams): Promise<RotateRootResult> {
  return store.locked(async () => {
    const now = params.now ?? new Date();
    const carried = await assertMayRotate(store, { ...(params.rootCrlUrl ? { rootCrlUrl: params.rootCrlUrl } : {}), now });
    const config = await loadConfig(store);
    const intermediate = carried.find(({ name }) => name === INTERMEDIATE_NAME)!;
    const old = await loadIssuer(store, ROOT_NAME, params.askPassword);
    const subject = newRootSubject(old.certificate.subject, params.subject, now);
    await assertSubjectOfNoCa(store, subject);
    const spec = params.key ?? old.certificate.key;
    const token = params.keyUri ? await makeTokenCaKey(ROOT_NAME, params.keyUri, spec, params.askPassword, { dryRun: store.dryRun }) : undefined;
    if (token && old.key.token?.publicKey.equals(token.key.token.publicKey)) {
      throw new InvalidInputError([{ option: 'rootKey' }, " names the old root's own key"], 'Give the new root a key of its own on the token (another object=).');
    }
    if (!token && params.newRootPassword === undefined) throw new Error('a root key file needs a password');
    const keys = token ? tokenKeyPair(token.key) : await generateKeyPair(spec);
    const oldRoot: Issuer = { ...old, name: OLD_ROOT_NAME };
    const warnings: string[] = [];
    const daysLeft = Math.ceil((old.certificate.notAfter.getTime() - now.getTime()) / DAY_MS);
    if (daysLeft < SHORT_BRIDGE_DAYS) warnings.push(`the old root expires on ${isoDate(old.certificate.notAfter)}, and the bridge to it with it: move clients to the new root before then.`);

    const oldRootCrlUrl = config.rootCrlUrl;
    const rootCrlUrl = params.rootCrlUrl ?? oldRootCrlUrl?.replace(new RegExp(`/${ROOT_NAME}\\.crl$`), `/${NEW_ROOT_CRL_PATH.slice(CRL_DIR.length + 1)}`);
    const nextConfig: CaConfig = {
      ...config,
      subject,
      ...(rootCrlUrl ? { rootCrlUrl } : {}),
      rootRotation: { oldRootSerial: old.certificate.serial, started: now.toISOString(), ...(oldRootCrlUrl ? { oldRootCrlUrl } : {}), bridge: true },
      ...tokenKeysAfter(config, token?.record),
    };
    const { certificate: root } = await buildCertificate({ kind: 'root', subject, publicKey: keys.publicKey, signingKey: keys, days: params.days, now });
    const { certificate: cross } = await buildCertificate({ kind: 'cross', subject, publicKey: keys.publicKey, issuer: oldRoot, policy: nextConfig, days: daysLeft, now });
    const newRoot: Issuer = { name: ROOT_NAME, certificate: root, chainPem: cross.pem, key: keys };

    const writes: FileWrite[] = [];
    const newRecords: CertificateRecord[] = [];
    const carriedChains = new Map<string, string>();
    let newIntermediate: CertificateInfo | undefined;
    for (const { name, record, certificate } of carried) {
      const lifetime = Math.round((certificate.notAfter.getTime() - certificate.notBefore.getTime()) / DAY_MS);
      const built = await buildCertificate(
        name === INTERMEDIATE_NAME
          ? { kind: 'intermediate', subject: certificate.subject, publicKey: certificatePublicKey(certificate.pem), issuer: newRoot, policy: nextConfig, days: params.days, now }
          : {
              kind: 'sub-ca',
              subject: certificate.subject,
              publicKey: certificatePublicKey(certificate.pem),
              issuer: newRoot,
              policy: nextConfig,
              days: lifetime,
              now,
              ...(certificate.pathLength !== undefined ? { pathLength: certificate.pathLength } : {}),
              ...carriedConstraints(certificate.pem),
              ...(record.external ? { excludeUnlisted: true } : {}),
            },
      );
      warnings.push(...built.warnings);
      if (name === INTERMEDIATE_NAME) newIntermediate = built.certificate;
      const chain = built.certificate.pem + cross.pem;
      carriedChains.set(certificate.pem, chain);
      newRecords.push({ ...toRecord(built.certificate, name, ROOT_NAME, 'ca'), ...(record.managed ? { managed: true } : {}), ...(record.external ? { external: true } : {}) });
      writes.push(
        { path: certPath(oldNameOf(name)), content: certificate.pem, commit: true },
        { path: chainPath(oldNameOf(name)), content: (await store.readText(chainPath(name))) ?? certificate.pem, commit: true },
        { path: certPath(name), content: built.certificate.pem, commit: true },
        { path: chainPath(name), content: chain, commit: true },
      );
    }
    const chains = await rewriteCaChains(store, carriedChains, new Set(carried.map(({ name }) => name)));

    // What the old root issued moves with it to records/root-ca.old/.
    const carriedSerials = new Map(carried.map(({ name, certificate }) => [certificate.serial, name]));
    const movedRecords = (await loadRecords(store, ROOT_NAME)).map((record) => asOldRootRecord(record, carriedSerials));
    const crossRecord = toRecord(cross, CROSS_NAME, OLD_ROOT_NAME, 'ca');
    const rootRecord = toRecord(root, ROOT_NAME, ROOT_NAME, 'root');
    const previousRootCrl = await store.readText(crlFileOf(config, ROOT_NAME));
    const previous = previousRootCrl ? readCrlNumber(previousRootCrl) : 0;
    const crls = [
      await buildCrl(store, oldRoot, { now, days: crlDaysFor(config, OLD_ROOT_NAME), records: [...movedRecords, crossRecord], previous, config: nextConfig }),
      await buildCrl(store, newRoot, { now, days: crlDaysFor(config, ROOT_NAME), records: [rootRecord, ...newRecords], previous, config: nextConfig }),
    ];
    writes.push(
      { path: CONFIG_FILE, content: serializeConfig(nextConfig), commit: true },
      { path: certPath(OLD_ROOT_NAME), content: old.certificate.pem, commit: true },
      { path: certPath(ROOT_NAME), content: root.pem, commit: true },
      { path: certPath(CROSS_NAME), content: cross.pem, commit: true },
      { path: ROOTS_FILE, content: root.pem + old.certificate.pem, commit: true },
      ...chains.map(({ path, content }) => ({ path, content, commit: true })),
      ...(token ? [] : [await keyWrite(ROOT_NAME, keys as KeyPair, params.newRootPassword, false)]),
      ...(old.key.privateKey && params.newRootPassword !== undefined
        ? [{ path: keyPath(OLD_ROOT_NAME), content: await exportPrivateKey(old.key.privateKey, params.newRootPassword), private: true, commit: false }]
        : []),
      ...movedRecords.map((record) => ({ path: recordPath(OLD_ROOT_NAME, record.serial), content: serializeRecord(record), commit: true })),
      recordWrite(crossRecord),
      recordWrite(rootRecord),
      ...newRecords.map(recordWrite),
      ...crls,
    );
    // A file key of the old root without a new password to re-encrypt it with (the new root on a token) moves as it is.
    const moves = old.key.privateKey && params.newRootPassword === undefined ? [{ from: keyPath(ROOT_NAME), to: keyPath(OLD_ROOT_NAME), commit: false }] : [];
    const removes = movedRecords.map((record) => recordPath(ROOT_NAME, record.serial));
    const oldKeyPlace = old.key.token ? 'stays on its token' : `moved to ${keyPath(OLD_ROOT_NAME)}${params.newRootPassword !== undefined ? ', encrypted with the same password' : ''}`;
    const message = commitMessage({
      summary: `Rotate the root to "${subject.CN}" (${describeKey(keys.spec)}, expires ${isoDate(root.notAfter)}), bridged by a cross-certificate`,
      commandLine: params.commandLine,
      details: [
        `New root:  ${formatDn(root.subject)}`,
        `           serial ${root.serial}, expires ${isoDate(root.notAfter)}, SHA-256 ${root.fingerprint}`,
        `Cross:     the new root's key signed by the old root, serial ${cross.serial}, expires ${isoDate(cross.notAfter)}`,
        `Carried:   ${carried.map(({ name }) => name).join(', ')} (same keys and names), now under the new root too`,
        `Old root:  ${formatDn(old.certificate.subject)}, serial ${old.certificate.serial}, now ${certPath(OLD_ROOT_NAME)}`,
        `CRLs:      the old root's stays ${crlFileOf(nextConfig, OLD_ROOT_NAME)}, the new root's is ${crlFileOf(nextConfig, ROOT_NAME)}${rootCrlUrl ? ` (${rootCrlUrl})` : ''}`,
        `Chain files of the CAs end with the cross-certificate until the rotation is finished; ${ROOTS_FILE} holds both roots.`,
        `${token ? `The new root key is an ${describeTokenKeyWithFingerprint(token)}.` : 'The new root key is encrypted and not committed.'} The old root key ${oldKeyPlace}.`,
      ],
      trailers: {
        'Certified-Action': 'rotate-root',
        'Certified-Name': ROOT_NAME,
        'Certified-Serial': root.serial,
        'Certified-Fingerprint': root.fingerprint,
        'Certified-Cross-Serial': cross.serial,
        'Certified-Old-Root-Serial': old.certificate.serial,
      },
    });
    const { commit } = await store.apply({ message, writes, removes, moves });
    return {
      root,
      cross,
      intermediate: newIntermediate ?? intermediate.certificate,
      oldRoot: old.certificate,
      carried: carried.map(({ name }) => name),
      chains: [...carried.map(({ name }) => chainPath(name)), ...chains.map((chain) => chain.path)],
      ...(token ? { keyOnToken: token.record.uri } : {}),
      warnings,
      records: [rootRecord, crossRecord, ...newRecords],
      crls: crls.map(publishedCrl),
      commit,
    };
  });
}

export interface FinishRotationResult {
  /** Chain files the cross-certificate was dropped from. */
  chains: string[];
  /** Certificates whose chain files still go through the old root: renew them. */
  underOldRoot: string[];
  commit: string;
}

/** Ends the bridge once every client trusts the new root: chain files lose the cross-certificate, roots.crt the old root. */
export async function finishRootRotation(store: CaStore, params: { commandLine: string; now?: Date }): Promise<FinishRotationResult> {
  return store.locked(async () => {
    const config = await loadConfig(store);
    const rotation = config.rootRotation;
    if (!rotation?.bridge) {
      throw new CertifiedError('no root rotation is under way, so there is no bridge to drop', { code: 'NO_ROTATION', hint: 'Start one with "certified rotate-root".' });
    }
    const cross = await loadCertificate(store, CROSS_NAME);
    const root = await loadCertificate(store, ROOT_NAME);
    if (!cross || !root) throw new CertifiedError(`"${certPath(CROSS_NAME)}" or "${certPath(ROOT_NAME)}" is missing`, { code: 'NO_CROSS', hint: `Restore it from git ("git checkout -- ${CERTS_DIR}").` });
    const chains = await chainFilesHolding(store, [cross.der]);
    const rewritten = chains.map(({ path, blocks }) => ({ path, content: blocks.filter((der) => !sameBytes(der, cross.der)).map((der) => toPem(der, 'CERTIFICATE')).join('') }));
    const underOldRoot = await stillUnderOldRoot(store);
    const now = params.now ?? new Date();
    const nextConfig: CaConfig = { ...config, rootRotation: { ...rotation, bridge: false, finished: now.toISOString() } };
    const writes: FileWrite[] = [
      { path: CONFIG_FILE, content: serializeConfig(nextConfig), commit: true },
      { path: ROOTS_FILE, content: root.pem, commit: true },
      ...rewritten.map(({ path, content }) => ({ path, content, commit: true })),
    ];
    const message = commitMessage({
      summary: `Finish the root rotation: drop the cross-certificate from ${rewritten.length} chain file${rewritten.length === 1 ? '' : 's'}`,
      commandLine: params.commandLine,
      details: [
        `${ROOTS_FILE} now holds only the new root, "${root.subject.CN ?? ''}".`,
        underOldRoot.length
          ? `Still under the old root (renew them): ${underOldRoot.slice(0, 20).join(', ')}${underOldRoot.length > 20 ? `, and ${underOldRoot.length - 20} more` : ''}.`
          : 'No certificate is still under the old root.',
      ],
      trailers: { 'Certified-Action': 'rotate-root-finish', 'Certified-Name': ROOT_NAME, 'Certified-Serial': root.serial },
    });
    const { commit } = await store.apply({ message, writes });
    return { chains: rewritten.map(({ path }) => path), underOldRoot, commit };
  });
}

/** Certificates whose chain files go through a carried CA's certificate under the old root (NAME.old), which renewing moves. */
export async function stillUnderOldRoot(store: CaStore): Promise<string[]> {
  const oldCertificates: { name: string; der: Uint8Array }[] = [];
  for (const record of await loadRecords(store, OLD_ROOT_NAME)) {
    if (record.profile !== 'ca' || record.status !== 'valid' || record.name === OLD_ROOT_NAME || record.name === CROSS_NAME) continue;
    const certificate = await loadCertificate(store, record.name);
    if (certificate?.serial === record.serial) oldCertificates.push({ name: record.name, der: certificate.der });
  }
  if (!oldCertificates.length) return [];
  const own = new Set(oldCertificates.map(({ name }) => name));
  return (await chainFilesHolding(store, oldCertificates.map(({ der }) => der)))
    .map(({ path }) => path.slice(CERTS_DIR.length + 1, -'.chain.crt'.length))
    .filter((name) => !own.has(name));
}

/** Every valid CA the root signed whose certificate is in certs/: the intermediate (required) first. */
async function carriedCas(store: CaStore): Promise<CarriedCa[]> {
  const carried: CarriedCa[] = [];
  for (const record of await loadRecords(store, ROOT_NAME)) {
    if (record.profile !== 'ca' || record.status !== 'valid') continue;
    const certificate = await loadCertificate(store, record.name);
    if (certificate?.serial === record.serial) carried.push({ name: record.name, record, certificate });
  }
  if (!carried.some(({ name }) => name === INTERMEDIATE_NAME)) {
    throw new CertifiedError('there is no intermediate in use to carry over to the new root', {
      code: 'NO_INTERMEDIATE',
      hint: 'Make a new intermediate first with "certified init", then rotate the root.',
    });
  }
  return carried.sort((a, b) => (a.name === INTERMEDIATE_NAME ? -1 : b.name === INTERMEDIATE_NAME ? 1 : a.name < b.name ? -1 : 1));
}

/** Where a carried CA's certificate under the old root goes: ca.old for the intermediate. */
function oldNameOf(name: string): string {
  return `${name}.old`;
}

/** A carried sub-CA keeps the name constraints its certificate has. */
function carriedConstraints(pem: string): { nameConstraints?: NameConstraintSet } {
  const constraints = readNameConstraints(pem);
  return constraints ? { nameConstraints: constraints } : {};
}

/** The old root's subject with what was given; without a CN, the old CN with this year in place of (or after) its own. */
function newRootSubject(old: DistinguishedName, given: DistinguishedName, now: Date): DistinguishedName {
  if (given.CN !== undefined) return { ...old, ...given };
  const year = String(now.getUTCFullYear());
  const base = (old.CN ?? 'Root').replace(/\s+\d{4}$/, '');
  return { ...old, ...given, CN: `${base} ${year}` };
}

/** A record of the old root's, as it moves to records/root-ca.old/: the root and the carried CAs' old certificates renamed. */
function asOldRootRecord(record: CertificateRecord, carried: Map<string, string>): CertificateRecord {
  const carriedName = carried.get(record.serial);
  const name = record.name === ROOT_NAME ? OLD_ROOT_NAME : carriedName ? oldNameOf(carriedName) : record.name;
  return { ...record, name, issuer: OLD_ROOT_NAME };
}

/** A root key on a token stays there, now as the old root's; the new root's, when on a token, takes its place. */
function tokenKeysAfter(config: CaConfig, newRoot: TokenKeyRecord | undefined): Pick<CaConfig, 'tokenKeys'> {
  const { [ROOT_NAME]: oldRoot, ...others } = config.tokenKeys ?? {};
  const tokenKeys = { ...others, ...(oldRoot ? { [OLD_ROOT_NAME]: oldRoot } : {}), ...(newRoot ? { [ROOT_NAME]: newRoot } : {}) };
  return Object.keys(tokenKeys).length ? { tokenKeys } : {};
}

/**
 * Chain files of CAs below the carried ones (a sub-CA of the intermediate) that go through a carried
 * CA's old certificate, now through its new chain. Leaves keep theirs until renewed.
 */
async function rewriteCaChains(store: CaStore, newChains: Map<string, string>, carried: Set<string>): Promise<{ path: string; content: string }[]> {
  const rewritten: { path: string; content: string }[] = [];
  for (const [oldPem, newChain] of newChains) {
    const oldDer = readPemBlocks(oldPem)[0]?.der;
    if (!oldDer) continue;
    for (const { path, blocks } of await chainFilesHolding(store, [oldDer])) {
      const name = path.slice(CERTS_DIR.length + 1, -'.chain.crt'.length);
      if (carried.has(name) || !blocks[0] || !isCaCertificate(blocks[0])) continue;
      const at = blocks.findIndex((der) => sameBytes(der, oldDer));
      rewritten.push({ path, content: blocks.slice(0, at).map((der) => toPem(der, 'CERTIFICATE')).join('') + newChain });
    }
  }
  return rewritten;
}

/** Every chain file in certs/ that holds one of the certificates `ders`, with its certificates. */
async function chainFilesHolding(store: CaStore, ders: Uint8Array[]): Promise<{ path: string; blocks: Uint8Array[] }[]> {
  const files = (await store.list(CERTS_DIR)).filter((file) => file.endsWith('.chain.crt')).map((file) => `${CERTS_DIR}/${file}`);
  const texts = store.readTexts(files);
  // The first line of each PEM body is a cheap filter before decoding.
  const bodies = ders.map((der) => Buffer.from(der).toString('base64').slice(0, 64));
  const found: { path: string; blocks: Uint8Array[] }[] = [];
  files.forEach((path, index) => {
    const text = texts[index];
    if (!text || !bodies.some((body) => text.includes(body))) return;
    const blocks = readPemBlocks(text).map((block) => block.der);
    if (blocks.some((block) => ders.some((der) => sameBytes(block, der)))) found.push({ path, blocks });
  });
  return found;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}
