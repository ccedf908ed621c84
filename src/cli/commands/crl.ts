import { loadConfig } from '../../ca/ca-files.js';
import { chooseCrlIssuers, resignCrls } from '../../ca/revocation/generate-crl.js';
import { parseDays } from '../../ca/options.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import { longDate, note, shown, status } from '../output.js';
import { askPasswordFrom } from '../passwords.js';

export interface CrlOptions {
  db?: string;
  lockTimeout?: string;
  issuer?: string;
  crlDays?: string;
  caPassword?: string;
  rootPassword?: string;
}

export async function runCrl(_args: string[], options: CrlOptions, argv: string[]): Promise<void> {
  const days = options.crlDays === undefined ? undefined : parseDays(options.crlDays, 'crlDays');
  const store = openStore(options);
  const config = await loadConfig(store);
  const { issuers, skipped } = await chooseCrlIssuers(store, options.issuer);
  for (const crl of skipped) {
    await note(`the root key is offline, so the root's CRL was not re-signed: run "certified crl --issuer ${crl.issuer}" with the key in ${shown(store.path(crl.keyPath))}.`);
  }

  const result = await resignCrls(store, { issuers, askPassword: askPasswordFrom(options), days: days ?? config.crlDays, commandLine: redactedCommandLine(argv) });
  if (store.dryRun) return reportDryRun(store);
  for (const crl of result.crls) {
    status(`Re-signed ${shown(store.path(crl.path))}: CRL number ${crl.crlNumber}, ${crl.entries} revoked.`);
  }
  if (result.stagedForMerge) {
    status(`The next update is due by ${longDate(result.nextUpdate)}. The CRLs are staged for the merge under way: finish it with "git commit".`);
  } else {
    status(`The next update is due by ${longDate(result.nextUpdate)}; committed as ${result.commit.slice(0, 12)}.`);
  }
}
