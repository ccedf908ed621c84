import { loadConfig } from '../../ca/ca-files.js';
import { UsageError } from '../../ca/errors.js';
import { parseDays } from '../../ca/options.js';
import { assertRevocable, parseReason, revokeCertificate } from '../../ca/revocation/revoke-certificate.js';
import { INTERMEDIATE_NAME } from '../../ca/layout.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import type { RootOptions } from '../options.js';
import { shown, status } from '../output.js';
import { askPasswordFrom } from '../passwords.js';
import { targetName } from '../target.js';

export async function runRevoke(args: string[], options: RootOptions, argv: string[]): Promise<void> {
  const name = targetName(args, options.name, 'revoke');
  if (name === INTERMEDIATE_NAME) {
    throw new UsageError('the intermediate is revoked by the root', 'Run "certified --ca --revoke --root-password -".');
  }
  assertRevocable(name);
  const reason = parseReason(options.reason);
  const crlDays = options.crlDays === undefined ? undefined : parseDays(options.crlDays, 'crlDays');
  const store = openStore(options);
  await loadConfig(store);

  const result = await revokeCertificate(store, {
    name,
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    reason,
    askPassword: askPasswordFrom(options),
    ...(crlDays ? { crlDays } : {}),
    commandLine: redactedCommandLine(argv),
  });
  if (store.dryRun) return reportDryRun(store);
  status(`Revoked "${name}" (serial ${result.record.serial}, ${reason}).`);
  status(`The CRL ${shown(store.path(result.crl.path))} (number ${result.crl.crlNumber}) lists it; publish it where the CRL URL points.`);
  status(`Its files moved to ${shown(store.path(result.movedTo))}, so the name can be issued again; committed as ${result.commit.slice(0, 12)}.`);
}
