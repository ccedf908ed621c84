import { loadConfig } from '../../ca/ca-files.js';
import { locateCertificate } from '../../ca/find-record.js';
import { parseDays } from '../../ca/options.js';
import { assertRenewable, renewCertificate } from '../../ca/issuing/renew-certificate.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import { certificateChange, crlDocument } from '../json-output.js';
import { data, longDate, printJson, shown, status, warning } from '../output.js';
import { resolveSecret } from '../secrets.js';
import { askPasswordFrom } from '../passwords.js';
import { targetName } from '../target.js';
import { confirmation } from '../prompts.js';

export interface RenewOptions {
  db?: string;
  lockTimeout?: string;
  name?: string;
  issuer?: string;
  reuseKey?: boolean;
  days?: string;
  password?: string;
  caPassword?: string;
  pin?: string;
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export async function runRenew(args: string[], options: RenewOptions, argv: string[]): Promise<void> {
  const name = targetName(args, options.name, 'renew');
  const days = options.days === undefined ? undefined : parseDays(options.days);
  const store = openStore(options);
  await loadConfig(store);
  const { record } = await locateCertificate(store, name);
  assertRenewable(record);
  const password = options.reuseKey
    ? undefined
    : await resolveSecret({ label: `the new key of "${name}"`, flag: '--password', flagValue: options.password, env: 'CERTIFIED_PASSWORD', forNewKey: true });

  const result = await renewCertificate(store, {
    name,
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(days ? { days } : {}),
    ...(options.reuseKey ? { reuseKey: true } : {}),
    ...(password ? { password } : {}),
    askPassword: askPasswordFrom({ caPassword: options.caPassword, pin: options.pin }),
    ...confirmation(options),
    commandLine: redactedCommandLine(argv),
  });
  if (store.dryRun) return reportDryRun(store, options.json ? { action: 'renew', warnings: result.warnings } : undefined);
  if (options.json) {
    const extra = { replaced: result.replaced, crls: result.crls.map((crl) => crlDocument(crl, store)) };
    return printJson(certificateChange('renew', result.record, store, result.warnings, extra));
  }
  data(result.chainPem);
  const under = result.issuer === result.replaced.issuer ? '' : ` under "${result.issuer}"`;
  status(`Renewed "${name}"${under} (serial ${result.certificate.serial}, ${result.reusedKey ? 'same key' : 'new key'}); serial ${result.replaced.serial} is revoked as superseded.`);
  status(`The certificate is at ${shown(store.path(result.files.certificate))}, the chain at ${shown(store.path(result.files.chain))} and the key at ${shown(store.path(result.files.key ?? ''))}.`);
  status(`It will expire on ${longDate(result.certificate.notAfter)}.`);
  for (const text of result.warnings) await warning(text);
  status(`Install the new chain${result.reusedKey ? '' : ' and key'} where the old one was; committed as ${result.commit.slice(0, 12)}.`);
}
