import { loadConfig } from '../../ca/ca-files.js';
import { listCrlIssuers, resignCrls } from '../../ca/revocation/generate-crl.js';
import { resolveIssuer } from '../../ca/authorities/issuers.js';
import { parseDays } from '../../ca/options.js';
import { ROOT_NAME, keyPath } from '../../ca/layout.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import { longDate, note, shown, status } from '../output.js';
import { issuerPassword } from '../target.js';

export interface CrlOptions {
  db?: string;
  lockTimeout?: string;
  issuer?: string;
  crlDays?: string;
  caPassword?: string;
  rootPassword?: string;
}

export async function runCrl(_args: string[], options: CrlOptions, argv: string[]): Promise<void> {
  const days = options.crlDays === undefined ? undefined : parseDays(options.crlDays, '--crl-days');
  const store = openStore(options);
  const config = await loadConfig(store);
  let issuers = options.issuer === undefined ? await listCrlIssuers(store) : [await resolveIssuer(store, options.issuer)];
  if (options.issuer === undefined && !(await store.exists(keyPath(ROOT_NAME)))) {
    issuers = issuers.filter((issuer) => issuer !== ROOT_NAME);
    await note(`the root key is offline, so the root's CRL was not re-signed: run "certified crl --issuer root-ca" with the key in ${shown(store.path(keyPath(ROOT_NAME)))}.`);
  }
  const passwords: Record<string, string | undefined> = {};
  for (const issuer of issuers) passwords[issuer] = await issuerPassword(store, issuer, options);

  const result = await resignCrls(store, { issuers, passwords, days: days ?? config.crlDays, commandLine: redactedCommandLine(argv) });
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
