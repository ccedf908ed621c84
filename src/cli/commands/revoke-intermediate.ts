import { loadConfig } from '../../ca/ca-files.js';
import { UsageError } from '../../ca/errors.js';
import { parseDays } from '../../ca/options.js';
import { parseReason, revokeCertificate } from '../../ca/revocation/revoke-certificate.js';
import { INTERMEDIATE_NAME, ROOT_NAME } from '../../ca/layout.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import type { RootOptions } from '../options.js';
import { certificateChange, crlDocument } from '../json-output.js';
import { printJson, shown, status } from '../output.js';
import { askPasswordFrom } from '../passwords.js';
import { confirmation } from '../prompts.js';

/** `certified --ca --revoke`: the root revokes the intermediate; issuing stops until a new one is made. */
export async function runRevokeIntermediate(args: string[], options: RootOptions, argv: string[]): Promise<void> {
  if (args.length) throw new UsageError('revoke --ca takes no subject: it revokes the intermediate', 'To revoke a sub-CA, run "certified revoke CN=..".');
  const reason = parseReason(options.reason);
  const crlDays = options.crlDays === undefined ? undefined : parseDays(options.crlDays, 'crlDays');
  const store = openStore(options);
  await loadConfig(store);

  const result = await revokeCertificate(store, {
    target: INTERMEDIATE_NAME,
    issuer: ROOT_NAME,
    reason,
    askPassword: askPasswordFrom(options),
    ...confirmation(options),
    ...(crlDays ? { crlDays } : {}),
    commandLine: redactedCommandLine(argv),
  });
  if (store.dryRun) return reportDryRun(store, options.json ? { action: 'revoke' } : undefined);
  if (options.json) return printJson(certificateChange('revoke', result.record, store, [], { crls: result.crls.map((crl) => crlDocument(crl, store)) }));
  const crl = result.crl ? `; the root's CRL ${shown(store.path(result.crl.path))} (number ${result.crl.crlNumber}) lists it` : '';
  status(`Revoked the intermediate (serial ${result.record.serial}, ${reason})${crl}.`);
  status(`Its files moved to ${shown(store.path(result.movedTo ?? ''))}; committed as ${result.commit.slice(0, 12)}.`);
  status('Certificates it issued no longer verify, and issuing is refused until you make a new intermediate:');
  status('  certified init --root-password -');
  status('then renew each certificate with "certified renew CN=..".');
}
