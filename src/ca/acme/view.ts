/**
 * What the ACME server knows of the CA between requests: the policy as committed and the account
 * records, so that a request reads no file and parses no YAML. It is kept while HEAD is where the
 * server left it: the server's own commits move it along (dropping only what they wrote), and
 * any other commit (a reviewed policy change merged, an account deactivated by hand) drops it all.
 */
import type { CaStore, ChangeNotice } from '../../store/ca-store.js';
import { ACME_ACCOUNTS_DIR, CERTS_DIR, INTERMEDIATE_NAME, REVOKED_DIR, recordsDir } from '../../store/layout.js';
import { MANIFEST_FILE } from '../manifest/manifest.js';
import { readAccount, type AcmeAccount } from './accounts.js';
import { readAcmePolicy } from './policy.js';
import type { AcmeSigner } from './issue.js';
import type { AcmePolicy } from './types.js';

/** Accounts kept in memory; past this many the oldest read is dropped (and read again if asked). */
const ACCOUNTS_KEPT = 10_000;
/** Certificates just issued, kept for their download (the next request of a client): ~2 KiB each. */
const ISSUED_KEPT = 1_000;
/**
 * HEAD is read again only when it was last read longer ago than this: a request that arrives this
 * soon after another's commit is answered as if it had come just before.
 */
const HEAD_FRESH_MS = 5;

/** A certificate the server issued: who ordered it, and its PEM chain. */
export interface IssuedChain {
  account: string;
  chainPem: string;
}

export class AcmeView {
  /** HEAD as last seen; null before the first look. */
  private head: string | undefined | null = null;
  /** Bumped whenever what is kept is dropped: a read begun before must not put back an old record. */
  private generation = 0;
  private policyAt: { head: string | undefined; policy: AcmePolicy } | undefined;
  private readonly accounts = new Map<string, AcmeAccount>();
  private readonly issued = new Map<string, IssuedChain>();
  private signerAt: { head: string | undefined; signer: Promise<AcmeSigner> } | undefined;
  /** One signer loaded without the lock, shared by the signatures made ahead of commits until one is kept (never used under the lock). */
  private unlockedAt: { head: string | undefined; signer: Promise<AcmeSigner> } | undefined;
  private headReadAt = -Infinity;

  constructor(private readonly store: CaStore) {
    store.onCommit((commit) => this.follow(commit));
  }

  /** The policy as HEAD has it. */
  async policy(): Promise<AcmePolicy> {
    const head = await this.refresh();
    if (this.policyAt && this.policyAt.head === head) return this.policyAt.policy;
    const policy = await readAcmePolicy(this.store, head);
    if (this.head === head) this.policyAt = { head, policy };
    return policy;
  }

  /** The account record `id`, undefined when there is none. */
  async account(id: string): Promise<AcmeAccount | undefined> {
    await this.refresh();
    const kept = this.accounts.get(id);
    if (kept) return kept;
    const generation = this.generation;
    const account = await readAccount(this.store, id);
    if (account && generation === this.generation) {
      if (this.accounts.size >= ACCOUNTS_KEPT) this.accounts.delete(this.accounts.keys().next().value!);
      this.accounts.set(id, account);
    }
    return account;
  }

  /**
   * What ACME certificates are signed with, from `load` (loadAcmeSigner). Only a signer loaded
   * under the CA's lock (`underLock`: HEAD is read afresh) is kept: without the lock, another
   * command may be halfway through a change that it will undo. It is kept while HEAD moves only by
   * the server's own commits of ACME certificates, their records and accounts. Asked for without
   * the lock when none is kept, one is loaded per HEAD and shared by those asking meanwhile.
   */
  async signer(load: () => Promise<AcmeSigner>, { underLock = false } = {}): Promise<AcmeSigner> {
    const head = await this.refresh(underLock);
    if (this.signerAt && this.signerAt.head === head) return this.signerAt.signer;
    if (!underLock && this.unlockedAt && this.unlockedAt.head === head) return this.unlockedAt.signer;
    const loading = { head, signer: load() };
    if (underLock) this.signerAt = loading;
    else this.unlockedAt = loading;
    // A failure (a key that cannot be opened) is not kept: the next one tries again.
    loading.signer.catch(() => {
      if (this.signerAt === loading) this.signerAt = undefined;
      if (this.unlockedAt === loading) this.unlockedAt = undefined;
    });
    return loading.signer;
  }

  /** Keeps the chain of a certificate just issued for its download. */
  rememberIssued(serial: string, chain: IssuedChain): void {
    if (this.issued.size >= ISSUED_KEPT) this.issued.delete(this.issued.keys().next().value!);
    this.issued.set(serial, chain);
  }

  /** The chain of a certificate this server issued lately, while the CA is as it left it. */
  async issuedChain(serial: string): Promise<IssuedChain | undefined> {
    await this.refresh();
    return this.issued.get(serial);
  }

  /** HEAD now; what was kept is dropped when HEAD moved by a commit the server did not make. */
  private async refresh(fresh = false): Promise<string | undefined> {
    const now = performance.now();
    if (!fresh && this.head !== null && now - this.headReadAt < HEAD_FRESH_MS) return this.head;
    const head = await this.store.headCommit();
    this.headReadAt = now;
    if (head !== this.head) {
      this.head = head;
      this.drop();
    }
    return head;
  }

  private drop(): void {
    this.generation++;
    this.accounts.clear();
    this.issued.clear();
    this.policyAt = undefined;
    this.signerAt = undefined;
    this.unlockedAt = undefined;
  }

  /**
   * A commit of this server's on top of what it saw: only what the commit wrote is dropped. A
   * change undone drops what it wrote too: a request may have read those files in between.
   */
  private follow(notice: ChangeNotice): void {
    if ('rolledBack' in notice) {
      this.generation++;
      if (notice.rolledBack.length === 0) this.drop();
      for (const path of notice.rolledBack) this.forget(path);
      return;
    }
    const { parent, commit, paths } = notice;
    if (this.head === null || parent !== this.head) return; // another commit came between: the next refresh drops everything
    this.head = commit;
    this.generation++;
    for (const path of paths) this.forget(path);
    if (this.policyAt && this.policyAt.head === parent) this.policyAt.head = commit;
    else this.policyAt = undefined;
    if (this.signerAt && this.signerAt.head === parent && paths.every(leavesSignerAlone)) this.signerAt.head = commit;
    else this.signerAt = undefined;
    this.unlockedAt = undefined;
  }

  /** Drops what was kept of `path`. */
  private forget(path: string): void {
    if (!leavesSignerAlone(path)) this.signerAt = this.unlockedAt = undefined;
    if (path.startsWith(`${ACME_ACCOUNTS_DIR}/`)) this.accounts.delete(path.slice(ACME_ACCOUNTS_DIR.length + 1).replace(/\.json$/, ''));
    else if (path === MANIFEST_FILE) this.policyAt = undefined;
    else if (path.startsWith(`${REVOKED_DIR}/`)) this.issued.clear(); // a revocation moves files
  }
}

/** A file the server writes for an ACME certificate or account, which the signer is not read from. */
function leavesSignerAlone(path: string): boolean {
  return path.startsWith(`${CERTS_DIR}/acme-`) || path.startsWith(`${recordsDir(INTERMEDIATE_NAME)}/`) || path.startsWith(`${ACME_ACCOUNTS_DIR}/`);
}
