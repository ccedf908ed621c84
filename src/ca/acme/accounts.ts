/**
 * ACME accounts as committed records: acme/accounts/<id>.json, where id is the RFC 7638
 * thumbprint of the account's first key. A key change keeps the id (the account URL stays) and
 * lists the old keys in previousKeys. Every change is one commit.
 */
import type { CaStore } from '../../store/ca-store.js';
import { ACME_ACCOUNTS_DIR, acmeAccountPath } from '../../store/layout.js';
import { commitMessage } from '../commit-message.js';

export type AccountStatus = 'valid' | 'deactivated' | 'revoked';

export interface AcmeAccount {
  id: string;
  jwk: JsonWebKey;
  contact: string[];
  status: AccountStatus;
  createdAt: string;
  eabKid?: string;
  previousKeys?: { jwk: JsonWebKey; until: string }[];
}

const ACCOUNT_ID = /^[A-Za-z0-9_-]{43}$/;
/** An account record is a few hundred bytes; a bigger one is not ours. */
const MAX_ACCOUNT_BYTES = 64 * 1024;

export function isAccountId(id: string): boolean {
  return ACCOUNT_ID.test(id);
}

export async function readAccount(store: CaStore, id: string): Promise<AcmeAccount | undefined> {
  if (!isAccountId(id)) return undefined;
  const text = await store.readText(acmeAccountPath(id));
  if (text === undefined || text.length > MAX_ACCOUNT_BYTES) return undefined;
  return JSON.parse(text) as AcmeAccount;
}

/** Every account, for the server's index of current keys. */
export async function listAccounts(store: CaStore): Promise<AcmeAccount[]> {
  const accounts: AcmeAccount[] = [];
  for (const entry of await store.list(ACME_ACCOUNTS_DIR)) {
    const id = entry.replace(/\.json$/, '');
    const account = entry.endsWith('.json') ? await readAccount(store, id) : undefined;
    if (account) accounts.push(account);
  }
  return accounts;
}

export type AccountChange = 'create' | 'update' | 'deactivate' | 'key-change';

const SUMMARIES: Record<AccountChange, string> = {
  create: 'Register the ACME account',
  update: 'Update the contact of the ACME account',
  deactivate: 'Deactivate the ACME account',
  'key-change': 'Change the key of the ACME account',
};

/** Writes the account record in one commit, under the lock. */
export async function saveAccount(store: CaStore, account: AcmeAccount, change: AccountChange, commandLine: string): Promise<{ commit: string }> {
  if (!isAccountId(account.id)) throw new Error(`"${account.id.slice(0, 60)}" is not an ACME account id`);
  return store.locked(async () => {
    const message = commitMessage({
      summary: `${SUMMARIES[change]} ${account.id}`,
      commandLine,
      details: [
        `Account: ${account.id}`,
        `Contact: ${account.contact.join(', ') || '(none)'}`,
        `Status:  ${account.status}`,
        ...(account.eabKid ? [`EAB:     ${account.eabKid}`] : []),
      ],
      trailers: { 'Certified-Action': `acme-account-${change}`, 'Certified-Acme-Account': account.id },
    });
    const { commit } = await store.apply({ message, writes: [{ path: acmeAccountPath(account.id), content: `${JSON.stringify(account, null, 2)}\n`, commit: true }] });
    return { commit };
  });
}
