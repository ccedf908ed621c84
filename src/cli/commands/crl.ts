import { chooseCrlIssuers, resignCrls, type SkippedCrl } from '../../ca/revocation/generate-crl.js';
import { parseDays } from '../../ca/options.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import { crlDocument, filesAndCommit } from '../json-output.js';
import { longDate, note, printJson, shown, status } from '../output.js';
import { askPasswordFrom } from '../passwords.js';
import { withProgress } from '../progress.js';

export interface CrlOptions {
  db?: string;
  lockTimeout?: string;
  issuer?: string;
  crlDays?: string;
  rootCrlDays?: string;
  caPassword?: string;
  rootPassword?: string;
  json?: boolean;
  quiet?: boolean;
}

export async function runCrl(_args: string[], options: CrlOptions, argv: string[]): Promise<void> {
  const days = options.crlDays === undefined ? undefined : parseDays(options.crlDays, 'crlDays');
  const rootDays = options.rootCrlDays === undefined ? undefined : parseDays(options.rootCrlDays, 'rootCrlDays');
  const store = openStore(options);
  const { issuers, optional, skipped } = await chooseCrlIssuers(store, options.issuer);

  const result = await withProgress(options.quiet, (progress) => resignCrls(store, {
    issuers,
    optional,
    askPassword: askPasswordFrom(options),
    ...(days === undefined ? {} : { days }),
    ...(rootDays === undefined ? {} : { rootDays }),
    commandLine: redactedCommandLine(argv),
    onProgress: (done, total) => progress.count('Re-signing', done, total, 'CRLs'),
  }));
  if (store.dryRun) return reportDryRun(store, options.json ? { action: 'crl' } : undefined);
  for (const crl of [...skipped, ...result.skipped]) await note(skippedNote(crl, store.path(crl.keyPath)));
  if (options.json) {
    return printJson({
      action: 'crl',
      crls: result.crls.map((crl) => crlDocument(crl, store)),
      skipped: [...skipped, ...result.skipped].map((crl) => ({ issuer: crl.issuer, reason: crl.reason })),
      stagedForMerge: result.stagedForMerge,
      ...filesAndCommit(store),
      warnings: [],
    });
  }
  for (const crl of result.crls) {
    status(`Re-signed ${shown(store.path(crl.path))}: CRL number ${crl.crlNumber}, ${crl.entries} revoked, next update by ${longDate(crl.nextUpdate)}.`);
  }
  if (result.crls.length === 0) status('Nothing was re-signed.');
  else if (result.stagedFor) status(`The CRLs are staged for the ${result.stagedFor.operation} under way: finish it with "${result.stagedFor.finish}".`);
  else status(`Committed as ${result.commit.slice(0, 12)}.`);
}

function skippedNote(crl: SkippedCrl, keyFile: string): string {
  if (crl.reason === 'token-unreachable') return `the root's CRL was not re-signed, as ${crl.why ?? 'its key on the PKCS#11 token could not be opened'}: run "certified crl --issuer ${crl.issuer}" where the token and its PIN are at hand.`;
  return crl.reason === 'root-key-offline'
    ? `the root key is offline, so the root's CRL was not re-signed: run "certified crl --issuer ${crl.issuer}" with the key in ${shown(keyFile)}.`
    : `no password for the root key was given, so the root's CRL was not re-signed: run "certified crl --issuer ${crl.issuer} --root-password -" (or set CERTIFIED_ROOT_PASSWORD).`;
}
