import { loadConfig } from '../../ca/ca-files.js';
import { UsageError } from '../../ca/errors.js';
import { parseDays } from '../../ca/options.js';
import { parseReason, revokeCertificate } from '../../ca/revocation/revoke-certificate.js';
import { INTERMEDIATE_NAME } from '../../ca/layout.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import type { RootOptions } from '../options.js';
import { certificateChange, crlDocument } from '../json-output.js';
import { printJson, shown, status } from '../output.js';
import { askPasswordFrom } from '../passwords.js';
import { targetName } from '../target.js';
import { confirmation } from '../prompts.js';

export async function runRevoke(args: string[], options: RootOptions, argv: string[]): Promise<void> {
  if (options.serial !== undefined && args.length) throw new UsageError('give CN=.. or --serial, not both');
  const name = options.serial === undefined ? targetName(args, options.name, 'revoke') : undefined;
  if (name === INTERMEDIATE_NAME) {
    throw new UsageError('the intermediate is revoked by the root', 'Run "certified revoke --ca --root-password -".');
  }
  const reason = parseReason(options.reason);
  const crlDays = options.crlDays === undefined ? undefined : parseDays(options.crlDays, 'crlDays');
  const store = openStore(options);
  await loadConfig(store);

  const result = await revokeCertificate(store, {
    target: name ?? { serial: options.serial ?? '' },
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    reason,
    askPassword: askPasswordFrom(options),
    ...confirmation(options),
    ...(crlDays ? { crlDays } : {}),
    commandLine: redactedCommandLine(argv),
  });
  if (store.dryRun) return reportDryRun(store, options.json ? { action: 'revoke' } : undefined);
  if (options.json) return printJson(certificateChange('revoke', result.record, store, [], { crls: result.crls.map((crl) => crlDocument(crl, store)) }));
  status(`Revoked "${result.record.name}" (serial ${result.record.serial}, ${reason}).`);
  if (result.crl) {
    status(`The CRL ${shown(store.path(result.crl.path))} (number ${result.crl.crlNumber}) lists it; publish it where the CRL URL points.`);
  } else if (result.record.profile === 'self-signed') {
    status('It is self-signed, so no CRL lists it: remove it from wherever it is trusted.');
  } else {
    status(`Its CA "${result.record.issuer}" was revoked itself, so no CRL changed: nothing it issued is trusted any more.`);
  }
  const commit = result.commit.slice(0, 12);
  status(
    result.movedTo
      ? `Its files moved to ${shown(store.path(result.movedTo))}, so the name can be issued again; committed as ${commit}.`
      : `Only its record changed: "certs/${result.record.name}.crt" is another certificate, which stays; committed as ${commit}.`,
  );
}
