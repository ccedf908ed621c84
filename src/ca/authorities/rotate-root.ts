import { certificatePublicKey, type CertificateInfo } from '../../pki/certificate.js';
import { readCrlNumber } from '../../pki/crl.js';
import { describeKey, exportPrivateKey, generateKeyPair, type KeySpec } from '../../pki/keys.js';
import { formatDn } from '../../pki/name.js';
import { readPemBlocks, toPem } from '../../pki/pem.js';
import type { DistinguishedName } from '../../pki/types.js';
import type { CaStore, FileWrite } from '../../store/ca-store.js';
import {
  CERTS_DIR,
  CONFIG_FILE,
  CRL_DIR,
  CROSS_NAME,
  INTERMEDIATE_NAME,
  OLD_INTERMEDIATE_NAME,
  OLD_ROOT_NAME,
  ROOTS_FILE,
  ROOT_NAME,
  certPath,
  chainPath,
  crlPath,
  keyPath,
  recordsDir,
} from '../../store/layout.js';
import { serializeRecord, type CertificateRecord } from '../../store/records.js';
import { loadCertificate, loadConfig } from '../ca-files.js';
import { buildCertificate } from '../certificate-builder.js';
import { recordWrite, toRecord } from '../certificate-record.js';
import { commitMessage, isoDate } from '../commit-message.js';
import { crlDaysFor, serializeConfig, type CaConfig } from '../config.js';
import { CertifiedError, InvalidInputError } from '../errors.js';
import { findRecord } from '../find-record.js';
import { loadIssuer, type Issuer } from '../load-issuer.js';
import type { AskPassword } from '../passwords.js';
import { buildCrl, loadRecords } from '../revocation/generate-crl.js';
import { keyWrite } from './init-ca.js';

const DAY_MS = 86_400_000;

export interface RotateRootParams {
  /** Attributes of the new root; the rest from the old root's subject (the CN gets the year when not given). */
  subject: DistinguishedName;
  /** Default: the old root's key type. */
  key?: KeySpec;
  days: number;
  /** Asked for the old root's key (and its token's PIN). */
  askPassword: AskPassword;
  /** Encrypts the new root's key, and the old root's key as it moves to private/root-ca.old.key. */
  newRootPassword: string;
  commandLine: string;
  now?: Date;
}

export interface RotateRootResult {
  root: CertificateInfo;
  cross: CertificateInfo;
  intermediate: CertificateInfo;
  oldRoot: CertificateInfo;
  /** CA chain files that now end with the cross-certificate (certs/ca.chain.crt and the sub-CAs'). */
  chains: string[];
  warnings: string[];
  commit: string;
}

/**
 * A new root, a cross-certificate of its key by the old root, and a new certificate for the
 * intermediate's key under the new root, in one commit. The intermediate keeps its key and name, so
 * its CRL, its ACME bindings and everything it issued stay valid; chain files of CAs end with the
 * cross-certificate so that clients trusting only the old root still verify what is issued next.
 * The old root becomes "root-ca.old" (certificate, records, CRL, and its key re-encrypted with the
 * new root's password, so that one password signs both roots' CRLs).
 */
export async function rotateRoot(store: CaStore, params: RotateRootParams): Promise<RotateRootResult> {
  return store.locked(async () => {
    const config = await loadConfig(store);
    assertRotationPossible(config, await store.exists(certPath(OLD_ROOT_NAME)));
    const intermediate = await currentIntermediate(store);
    const now = params.now ?? new Date();
    const old = await loadIssuer(store, ROOT_NAME, params.askPassword);
    const subject = newRootSubject(old.certificate.subject, params.subject, now);
    if (formatDn(subject) === formatDn(old.certificate.subject) || formatDn(subject) === formatDn(intermediate.subject)) {
      throw new InvalidInputError(`the new root's subject "${formatDn(subject)}" is the old root's or the intermediate's`, 'Give the new root a CN of its own, like CN="Example Root 2027"; clients tell roots apart by name.');
    }
    const spec = params.key ?? old.certificate.key;
    const keys = await generateKeyPair(spec);
    const oldRoot: Issuer = { ...old, name: OLD_ROOT_NAME };
    const warnings: string[] = [];

    const { certificate: root } = await buildCertificate({ kind: 'root', subject, publicKey: keys.publicKey, signingKey: keys, days: params.days, now });
    const untilOldRootEnds = Math.ceil((old.certificate.notAfter.getTime() - now.getTime()) / DAY_MS);
    const { certificate: cross } = await buildCertificate({ kind: 'cross', subject, publicKey: keys.publicKey, issuer: oldRoot, policy: config, days: untilOldRootEnds, now });
    const newRoot: Issuer = { name: ROOT_NAME, certificate: root, chainPem: cross.pem, key: keys };
    const built = await buildCertificate({
      kind: 'intermediate',
      subject: intermediate.subject,
      publicKey: certificatePublicKey(intermediate.pem),
      issuer: newRoot,
      policy: config,
      days: params.days,
      now,
    });
    warnings.push(...built.warnings);
    const newIntermediate = built.certificate;
    const intermediateChain = newIntermediate.pem + cross.pem;

    // What the old root issued moves with it to records/root-ca.old/.
    const movedRecords = (await loadRecords(store, ROOT_NAME)).map((record) => asOldRootRecord(record, intermediate.serial));
    const crossRecord = toRecord(cross, CROSS_NAME, OLD_ROOT_NAME, 'ca');
    const rootRecord = toRecord(root, ROOT_NAME, ROOT_NAME, 'root');
    const intermediateRecord = toRecord(newIntermediate, INTERMEDIATE_NAME, ROOT_NAME, 'ca');
    const previousRootCrl = await store.readText(crlPath(ROOT_NAME));
    const previous = previousRootCrl ? readCrlNumber(previousRootCrl) : 0;
    const chains = await rewriteCaChains(store, intermediate.pem, intermediateChain);
    const nextConfig: CaConfig = {
      ...config,
      subject,
      rootRotation: { oldRootSerial: old.certificate.serial, started: now.toISOString(), bridge: true },
      ...movedTokenKeys(config),
    };
    const oldChain = (await store.readText(chainPath(INTERMEDIATE_NAME))) ?? intermediate.pem;
    const writes: FileWrite[] = [
      { path: CONFIG_FILE, content: serializeConfig(nextConfig), commit: true },
      { path: certPath(OLD_ROOT_NAME), content: old.certificate.pem, commit: true },
      { path: certPath(ROOT_NAME), content: root.pem, commit: true },
      { path: certPath(CROSS_NAME), content: cross.pem, commit: true },
      { path: ROOTS_FILE, content: root.pem + old.certificate.pem, commit: true },
      { path: certPath(OLD_INTERMEDIATE_NAME), content: intermediate.pem, commit: true },
      { path: chainPath(OLD_INTERMEDIATE_NAME), content: oldChain, commit: true },
      { path: certPath(INTERMEDIATE_NAME), content: newIntermediate.pem, commit: true },
      { path: chainPath(INTERMEDIATE_NAME), content: intermediateChain, commit: true },
      ...chains.map(({ path, content }) => ({ path, content, commit: true })),
      await keyWrite(ROOT_NAME, keys, params.newRootPassword, false),
      ...(old.key.privateKey ? [{ path: keyPath(OLD_ROOT_NAME), content: await exportPrivateKey(old.key.privateKey, params.newRootPassword), private: true, commit: false }] : []),
      ...movedRecords.map((record) => ({ path: `${recordsDir(OLD_ROOT_NAME)}/${record.serial}.json`, content: serializeRecord(record), commit: true })),
      recordWrite(crossRecord),
      recordWrite(rootRecord),
      recordWrite(intermediateRecord),
      await buildCrl(store, oldRoot, { now, days: crlDaysFor(config, OLD_ROOT_NAME), records: [...movedRecords, crossRecord], previous }),
      await buildCrl(store, newRoot, { now, days: crlDaysFor(config, ROOT_NAME), records: [rootRecord, intermediateRecord], previous }),
    ];
    const removes = movedRecords.map((record) => `${recordsDir(ROOT_NAME)}/${record.serial}.json`);
    const message = commitMessage({
      summary: `Rotate the root to "${subject.CN}" (${describeKey(spec)}, expires ${isoDate(root.notAfter)}), bridged by a cross-certificate`,
      commandLine: params.commandLine,
      details: [
        `New root:     ${formatDn(root.subject)}`,
        `              serial ${root.serial}, expires ${isoDate(root.notAfter)}, SHA-256 ${root.fingerprint}`,
        `Cross:        the new root's key signed by the old root, serial ${cross.serial}, expires ${isoDate(cross.notAfter)}`,
        `Intermediate: ${formatDn(newIntermediate.subject)} (same key), now under the new root too`,
        `              serial ${newIntermediate.serial}, expires ${isoDate(newIntermediate.notAfter)}`,
        `Old root:     ${formatDn(old.certificate.subject)}, serial ${old.certificate.serial}, now ${certPath(OLD_ROOT_NAME)}`,
        `Chain files of the CAs end with the cross-certificate until the rotation is finished; ${ROOTS_FILE} holds both roots.`,
        'The new root key is encrypted and not committed; the old root key moved to private/root-ca.old.key, encrypted with the same password.',
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
    const { commit } = await store.apply({ message, writes, removes });
    return { root, cross, intermediate: newIntermediate, oldRoot: old.certificate, chains: [chainPath(INTERMEDIATE_NAME), ...chains.map((chain) => chain.path)], warnings, commit };
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
    const chains = await chainFilesHolding(store, cross.der);
    const rewritten = chains.map(({ path, blocks }) => ({ path, content: blocks.filter((der) => !sameBytes(der, cross.der)).map((der) => toPem(der, 'CERTIFICATE')).join('') }));
    const oldIntermediate = await loadCertificate(store, OLD_INTERMEDIATE_NAME);
    const underOldRoot = oldIntermediate ? (await chainFilesHolding(store, oldIntermediate.der)).map(({ path }) => path.slice(CERTS_DIR.length + 1, -'.chain.crt'.length)).filter((name) => name !== OLD_INTERMEDIATE_NAME) : [];
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

function assertRotationPossible(config: CaConfig, oldRootPresent: boolean): void {
  if (config.rootRotation?.bridge) {
    throw new CertifiedError(`a root rotation is under way (since ${config.rootRotation.started.slice(0, 10)})`, {
      code: 'ROTATION_UNDER_WAY',
      hint: ['Finish it with "certified rotate-root ', { option: 'finish' }, '" once every client trusts the new root, then rotate again.'],
    });
  }
  if (oldRootPresent) {
    throw new CertifiedError(`the root was rotated before, and the root it replaced is still at "${certPath(OLD_ROOT_NAME)}"`, {
      code: 'OLD_ROOT_PRESENT',
      hint: 'A CA keeps one old root: rotating a second time is not supported yet. Make a new CA beside this one to replace the root again.',
    });
  }
}

/** The intermediate now at certs/ca.crt, which must be in use: a revoked one is replaced first. */
async function currentIntermediate(store: CaStore): Promise<CertificateInfo> {
  const certificate = await loadCertificate(store, INTERMEDIATE_NAME);
  const record = certificate ? await findRecord(store, certificate.serial) : undefined;
  if (!certificate || record?.status !== 'valid') {
    throw new CertifiedError('there is no intermediate in use to carry over to the new root', {
      code: 'NO_INTERMEDIATE',
      hint: 'Make a new intermediate first with "certified init", then rotate the root.',
    });
  }
  return certificate;
}

/** The old root's subject with what was given; without a CN, the old CN with this year in place of (or after) its own. */
function newRootSubject(old: DistinguishedName, given: DistinguishedName, now: Date): DistinguishedName {
  if (given.CN !== undefined) return { ...old, ...given };
  const year = String(now.getUTCFullYear());
  const base = (old.CN ?? 'Root').replace(/\s+\d{4}$/, '');
  return { ...old, ...given, CN: `${base} ${year}` };
}

/** A record of the old root's, as it moves to records/root-ca.old/: the root and the intermediate's old certificate renamed. */
function asOldRootRecord(record: CertificateRecord, intermediateSerial: string): CertificateRecord {
  const name = record.name === ROOT_NAME ? OLD_ROOT_NAME : record.serial === intermediateSerial ? OLD_INTERMEDIATE_NAME : record.name;
  return { ...record, name, issuer: OLD_ROOT_NAME };
}

/** A root key on a token stays there, now as the old root's. */
function movedTokenKeys(config: CaConfig): Pick<CaConfig, 'tokenKeys'> {
  const onToken = config.tokenKeys?.[ROOT_NAME];
  if (!onToken || !config.tokenKeys) return {};
  const { [ROOT_NAME]: _moved, ...others } = config.tokenKeys;
  return { tokenKeys: { ...others, [OLD_ROOT_NAME]: onToken } };
}

/** Chain files of CAs below the intermediate (sub-CAs) that go through its old certificate, now through its new chain. */
async function rewriteCaChains(store: CaStore, oldIntermediatePem: string, newChain: string): Promise<{ path: string; content: string }[]> {
  const oldDer = readPemBlocks(oldIntermediatePem)[0]?.der;
  if (!oldDer) return [];
  const rewritten: { path: string; content: string }[] = [];
  // Every CA publishes crl/NAME.crl: that tells the CAs' chain files from the leaves' without decoding thousands.
  const cas = new Set((await store.list(CRL_DIR)).filter((file) => file.endsWith('.crl')).map((file) => file.slice(0, -'.crl'.length)));
  for (const { path, blocks } of await chainFilesHolding(store, oldDer)) {
    const name = path.slice(CERTS_DIR.length + 1, -'.chain.crt'.length);
    if (name === INTERMEDIATE_NAME || !cas.has(name)) continue;
    const at = blocks.findIndex((der) => sameBytes(der, oldDer));
    rewritten.push({ path, content: blocks.slice(0, at).map((der) => toPem(der, 'CERTIFICATE')).join('') + newChain });
  }
  return rewritten;
}

/** Every chain file in certs/ that holds the certificate `der`, with its certificates. */
async function chainFilesHolding(store: CaStore, der: Uint8Array): Promise<{ path: string; blocks: Uint8Array[] }[]> {
  const files = (await store.list(CERTS_DIR)).filter((file) => file.endsWith('.chain.crt')).map((file) => `${CERTS_DIR}/${file}`);
  const texts = store.readTexts(files);
  const body = Buffer.from(der).toString('base64').slice(0, 64);
  const found: { path: string; blocks: Uint8Array[] }[] = [];
  files.forEach((path, index) => {
    const text = texts[index];
    // The first line of the PEM body is a cheap filter before decoding.
    if (!text?.includes(body)) return;
    const blocks = readPemBlocks(text).map((block) => block.der);
    if (blocks.some((block) => sameBytes(block, der))) found.push({ path, blocks });
  });
  return found;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}
