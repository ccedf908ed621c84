import { resolve } from 'node:path';
import { trustRoot, type TrustOutcome, type TrustStoreKind } from '../../ca/export/trust-root.js';
import { openStore } from '../context.js';
import { data, printJson, status } from '../output.js';
import { withProgress } from '../progress.js';

export interface TrustOptions {
  db?: string;
  lockTimeout?: string;
  system?: boolean;
  nss?: boolean;
  java?: boolean;
  javaKeystore?: string;
  uninstall?: boolean;
  root?: string;
  json?: boolean;
  quiet?: boolean;
}

const LABEL: Record<TrustStoreKind, string> = { system: 'System store', nss: 'NSS database', java: 'Java keystore' };
const PLATFORM_NAME: Record<string, string> = { darwin: 'macOS', win32: 'Windows' };

export async function runTrust(_args: string[], options: TrustOptions): Promise<void> {
  const stores: TrustStoreKind[] = (['system', 'nss', 'java'] as const).filter((kind) => options[kind]);
  if (options.javaKeystore !== undefined && !stores.includes('java') && stores.length) stores.push('java');
  const platform = process.env.CERTIFIED_TRUST_PLATFORM ?? process.platform;
  const result = await withProgress(options.quiet, (progress) => trustRoot(openStore(options), {
    stores,
    uninstall: options.uninstall === true,
    root: resolve(options.root ?? '/'),
    home: process.env.HOME || undefined,
    platform,
    java: {
      ...(options.javaKeystore !== undefined ? { file: resolve(options.javaKeystore) } : {}),
      password: process.env.CERTIFIED_JAVA_STOREPASS ?? 'changeit',
    },
    onProgress: (done, total) => progress.count('Updating', done, total, 'trust stores'),
  }));

  for (const outcome of result.outcomes) status(describe(outcome));
  if (result.manualCommands.length) {
    status(`On ${PLATFORM_NAME[platform] ?? platform} certified does not change the system store itself; run this${options.uninstall ? ' to remove' : ' to trust'} "${result.commonName}":`);
    // Under --json the commands are in the document, not on stdout beside it.
    if (!options.json) for (const command of result.manualCommands) data(command);
  }
  if (result.alsoRoots.length) {
    status(options.uninstall ? `The old root ${result.alsoRoots.map((name) => `"${name}"`).join(', ')} was looked for too.` : `The old root ${result.alsoRoots.map((name) => `"${name}"`).join(', ')} goes with it while a root rotation bridges the two.`);
  }
  const changedStores = result.outcomes.filter((outcome) => outcome.action === 'installed' || outcome.action === 'removed');
  const changed = changedStores.length;
  if (options.json) {
    printJson({
      action: 'trust',
      uninstall: options.uninstall === true,
      root: { cn: result.commonName, fingerprint: result.fingerprint },
      alsoRoots: result.alsoRoots,
      stores: result.outcomes.map((outcome) => ({
        store: outcome.store,
        location: outcome.location || null,
        outcome: outcome.action,
        changed: changedStores.includes(outcome),
        detail: outcome.detail ?? null,
      })),
      manualCommands: result.manualCommands,
      files: [...new Set(changedStores.map((outcome) => outcome.location))],
      commit: null,
      warnings: [],
    });
  }
  if (options.uninstall) {
    status(changed ? `Removed the root "${result.commonName}" from ${changed} store${changed === 1 ? '' : 's'}.` : `Nothing changed: "${result.commonName}" was not in any store.`);
  } else {
    status(
      changed
        ? `Installed the root "${result.commonName}" (SHA-256 ${result.fingerprint}) into ${changed} store${changed === 1 ? '' : 's'}. Restart browsers and Java programs to pick it up.`
        : result.outcomes.some((outcome) => outcome.action === 'already trusted')
          ? `Nothing changed: "${result.commonName}" is already trusted.`
          : 'Nothing changed.',
    );
  }
}

function describe(outcome: TrustOutcome): string {
  const where = outcome.location ? ` "${outcome.location}"` : '';
  return `${LABEL[outcome.store]}${where}: ${outcome.action}${outcome.detail ? ` (${outcome.detail})` : ''}.`;
}
