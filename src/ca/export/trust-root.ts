import { join } from 'node:path';
import { parseCertificate } from '../../pki/certificate.js';
import { readPemBlocks } from '../../pki/pem.js';
import type { CaStore } from '../../store/ca-store.js';
import { OLD_ROOT_NAME, ROOT_NAME, certPath } from '../../store/layout.js';
import { loadConfig } from '../ca-files.js';
import {
  TrustStoreError,
  findNssDatabases,
  findSystemStore,
  javaAdd,
  javaDelete,
  javaHas,
  nssAdd,
  nssDelete,
  nssFind,
  placeSystemAnchor,
  removeSystemAnchor,
  runSystemUpdate,
  type CommandResult,
  type JavaKeystore,
} from '../../trust/trust-stores.js';
import { CertifiedError, NoCaError } from '../errors.js';
import { PLAIN, renderText, type TextPart } from '../text.js';

export const TRUST_STORES = ['system', 'nss', 'java'] as const;
export type TrustStoreKind = (typeof TRUST_STORES)[number];
export type TrustAction = 'installed' | 'already trusted' | 'removed' | 'not there' | 'skipped';

export interface TrustOutcome {
  store: TrustStoreKind;
  /** The file, database or keystore concerned. */
  location: string;
  action: TrustAction;
  /** The command that was run, or why the store was skipped. */
  detail?: string;
}

export interface TrustParams {
  /** The stores named on the command line; empty means every store found. */
  stores: TrustStoreKind[];
  uninstall: boolean;
  /** The file system root ("/" for this machine). */
  root: string;
  home: string | undefined;
  platform: string;
  java: JavaKeystore;
  /** Hears how many of the stores are done, of how many (each store once per root). */
  onProgress?: (done: number, total: number) => void;
}

export interface TrustResult {
  commonName: string;
  fingerprint: string;
  outcomes: TrustOutcome[];
  /** On macOS and Windows: the exact commands to run, since certified changes nothing there. */
  manualCommands: string[];
  /** The old root's CN, installed beside the new one while a root rotation bridges them (or removed with it). */
  alsoRoots: string[];
}

/**
 * Installs (or with uninstall, removes) the CA's root certificate in trust stores, and while a root
 * rotation bridges the two roots, the old root too (uninstall removes both). Changes nothing in the CA.
 */
export async function trustRoot(store: CaStore, params: TrustParams): Promise<TrustResult> {
  const config = await loadConfig(store);
  const names = [ROOT_NAME, ...(config.rootRotation?.bridge || (params.uninstall && (await store.exists(certPath(OLD_ROOT_NAME)))) ? [OLD_ROOT_NAME] : [])];
  const stores = params.stores.length ? params.stores : TRUST_STORES;
  let result: TrustResult | undefined;
  const total = names.length * stores.length;
  let done = 0;
  params.onProgress?.(done, total);
  for (const name of names) {
    const pem = await store.readText(certPath(name));
    if (pem === undefined) throw new NoCaError(store.dir);
    const root = parseCertificate(pem);
    const commonName = root.subject.CN ?? 'certified root';
    const slug = `certified-${commonName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'root'}`;
    const context: StoreContext = { pem, file: store.path(certPath(name)), slug, commonName, params };
    result ??= { commonName, fingerprint: root.fingerprint, outcomes: [], manualCommands: [], alsoRoots: [] };
    if (name !== ROOT_NAME) result.alsoRoots.push(commonName);
    for (const kind of stores) {
      const explicit = params.stores.includes(kind);
      try {
        if (kind === 'system' && (params.platform === 'darwin' || params.platform === 'win32')) {
          result.manualCommands.push(...manualCommands(params.platform, context.file, commonName, params.uninstall));
        } else if (kind === 'system') {
          result.outcomes.push(await trustSystem(context, explicit));
        } else if (kind === 'nss') {
          result.outcomes.push(...(await trustNss(context, explicit)));
        } else {
          result.outcomes.push(trustJava(context, explicit));
        }
      } catch (error) {
        if (explicit || !(error instanceof TrustStoreError)) throw wrap(error);
        result.outcomes.push({ store: kind, location: '', action: 'skipped', detail: error.message });
      }
      params.onProgress?.(++done, total);
    }
  }
  return result!;
}

interface StoreContext {
  pem: string;
  file: string;
  slug: string;
  commonName: string;
  params: TrustParams;
}

async function trustSystem(context: StoreContext, explicit: boolean): Promise<TrustOutcome> {
  const { params } = context;
  const system = await findSystemStore(params.root);
  if (!system) {
    if (explicit) throw new TrustStoreError(`no system trust store under "${params.root}"`, 'Only Debian/Ubuntu (/usr/local/share/ca-certificates) and RHEL/Fedora (/etc/pki/ca-trust/source/anchors) are known.');
    return { store: 'system', location: params.root, action: 'skipped', detail: 'no Debian or RHEL trust store found' };
  }
  const location = join(system.dir, system.family === 'debian' ? `${context.slug}.crt` : `${context.slug}.pem`);
  const changed = params.uninstall ? await removeSystemAnchor(location) : await placeSystemAnchor(location, context.pem);
  const action: TrustAction = params.uninstall ? (changed ? 'removed' : 'not there') : changed ? 'installed' : 'already trusted';
  if (!changed) return { store: 'system', location, action };
  if (!system.update) return { store: 'system', location, action, detail: `run ${system.family === 'debian' ? 'update-ca-certificates' : 'update-ca-trust'} inside "${params.root}" to rebuild its bundle` };
  const ran = runSystemUpdate(system.update, params.uninstall);
  check(ran, 'The anchor file was changed; run the command yourself to rebuild the bundle.');
  return { store: 'system', location, action, detail: `ran ${ran.shown}` };
}

async function trustNss(context: StoreContext, explicit: boolean): Promise<TrustOutcome[]> {
  const { params } = context;
  if (!params.home) throw new TrustStoreError('HOME is not set, so the NSS databases cannot be found', 'Set HOME to the user whose browsers should trust the CA.');
  const databases = await findNssDatabases(params.home);
  if (!databases.length) {
    const hint = `Start Chrome or Firefox once, or make one with: certutil -N -d sql:${join(params.home, '.pki/nssdb')} --empty-password`;
    if (explicit) throw new TrustStoreError(`no NSS database under "${params.home}" (~/.pki/nssdb or a Firefox profile)`, hint);
    return [{ store: 'nss', location: params.home, action: 'skipped', detail: 'no NSS database found' }];
  }
  return databases.map((db) => {
    const present = nssFind(db, context.commonName);
    const same = present !== undefined && sameCertificate(present, context.pem);
    if (params.uninstall) {
      if (present === undefined) return { store: 'nss', location: db, action: 'not there' };
      const ran = nssDelete(db, context.commonName);
      check(ran, 'Install libnss3-tools (certutil), or remove it in the browser\'s certificate settings.');
      return { store: 'nss', location: db, action: 'removed', detail: `ran ${ran.shown}` };
    }
    if (same) return { store: 'nss', location: db, action: 'already trusted' };
    const ran = nssAdd(db, context.commonName, context.file);
    check(ran, 'Install libnss3-tools (certutil) and close the browser, then try again.');
    return { store: 'nss', location: db, action: 'installed', detail: `ran ${ran.shown}` };
  });
}

function trustJava(context: StoreContext, explicit: boolean): TrustOutcome {
  const { java, uninstall } = context.params;
  const location = java.file ?? "the JDK's cacerts";
  const has = javaHas(java, context.slug);
  if (has.missing) {
    if (explicit) throw new TrustStoreError('keytool was not found', 'Install a JDK or JRE (keytool) and put it on the PATH.');
    return { store: 'java', location, action: 'skipped', detail: 'keytool not found' };
  }
  if (uninstall) {
    if (!has.ok) return { store: 'java', location, action: 'not there' };
    const ran = javaDelete(java, context.slug);
    check(ran, ['Check the keystore password (', { variable: 'javaStorePass' }, ') and permissions.']);
    return { store: 'java', location, action: 'removed', detail: `ran ${ran.shown}` };
  }
  if (has.ok) return { store: 'java', location, action: 'already trusted' };
  const ran = javaAdd(java, context.slug, context.file);
  check(ran, ['Check the keystore password (', { variable: 'javaStorePass' }, ") and permissions; the JDK's cacerts needs sudo."]);
  return { store: 'java', location, action: 'installed', detail: `ran ${ran.shown}` };
}

function manualCommands(platform: 'darwin' | 'win32', file: string, commonName: string, uninstall: boolean): string[] {
  if (platform === 'darwin') {
    return uninstall
      ? [`sudo security delete-certificate -c "${commonName}" /Library/Keychains/System.keychain`]
      : [`sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain "${file}"`];
  }
  return uninstall ? [`certutil -delstore Root "${commonName}"`] : [`certutil -addstore -f Root "${file}"`];
}

function check(result: CommandResult, hint: string | readonly TextPart[]): void {
  if (result.ok) return;
  const parts = typeof hint === 'string' ? [hint] : hint;
  const fail = (message: string) =>
    Object.assign(new TrustStoreError(message, renderText(parts, PLAIN)), { hintParts: parts });
  if (result.missing) throw fail(`"${result.shown.split(' ')[0]}" was not found`);
  const firstLine = result.output.split('\n').find((line) => line.trim()) ?? 'no output';
  throw fail(`"${result.shown}" failed: ${firstLine.trim()}`);
}

function sameCertificate(a: string, b: string): boolean {
  const [x] = readPemBlocks(a);
  const [y] = readPemBlocks(b);
  return x !== undefined && y !== undefined && Buffer.compare(Buffer.from(x.der), Buffer.from(y.der)) === 0;
}

function wrap(error: unknown): unknown {
  if (!(error instanceof TrustStoreError)) return error;
  const parts = (error as TrustStoreError & { hintParts?: readonly TextPart[] }).hintParts;
  return new CertifiedError(error.message, { code: 'TRUST_STORE', hint: parts ?? error.hint, cause: error });
}
