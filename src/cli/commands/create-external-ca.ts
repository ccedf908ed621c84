import { createExternalCa } from '../../ca/authorities/create-external-ca.js';
import { describePermitted } from '../../ca/authorities/init-ca.js';
import { parsePermittedSubtrees } from '../../ca/authorities/name-constraints.js';
import { UsageError } from '../../ca/errors.js';
import { validateName } from '../../ca/names.js';
import { parseDays, parsePathLength } from '../../ca/options.js';
import { DEFAULT_CA_DAYS } from '../../ca/profiles.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore } from '../context.js';
import { reportDryRun } from '../dry-run.js';
import type { RootOptions } from '../options.js';
import { certificateChange } from '../json-output.js';
import { data, longDate, printJson, shown, status, warning, withSpinner } from '../output.js';
import { askPasswordFrom } from '../passwords.js';
import { readCsrFile } from './sign-csr.js';

const UNCONSTRAINED = 'neither this CA nor the flags constrain names, so the engine may issue for any name: give --permit-dns, --permit-ip or --permit-email to limit it.';

/** `certified --ca --csr FILE --issuer X`: the CA certificate of a key another engine holds, signed by X. */
export async function runCreateExternalCa(args: string[], options: RootOptions, argv: string[]): Promise<void> {
  if (args.length) throw new UsageError('the subject of the CA comes from its CSR', `Drop "${args[0]?.slice(0, 40)}", or have the engine make a new CSR.`);
  const file = options.csr ?? '';
  const name = options.name !== undefined ? validateName(options.name) : undefined;
  const days = options.days === undefined ? DEFAULT_CA_DAYS : parseDays(options.days);
  const pathLength = options.pathlen === undefined ? undefined : parsePathLength(options.pathlen);
  const permitted = parsePermittedSubtrees(options);
  const input = await readCsrFile(file);
  const store = openStore(options);

  const result = await withSpinner('Signing the CA certificate of the CSR...', () =>
    createExternalCa(store, {
      input,
      source: file,
      issuer: options.issuer ?? '',
      ...(name ? { name } : {}),
      days,
      ...(pathLength === undefined ? {} : { pathLength }),
      ...(permitted ? { permitted } : {}),
      askPassword: askPasswordFrom({ rootPassword: options.rootPassword, caPassword: options.caPassword, pin: options.pin }),
      commandLine: redactedCommandLine(argv),
    }),
  );
  if (store.dryRun) return reportDryRun(store, options.json ? { action: 'init' } : undefined);
  if (options.json) {
    const warnings = [...(result.nameConstraints ? [] : [UNCONSTRAINED]), ...result.warnings];
    // The engine signs its CRLs: certified signed none.
    return printJson(certificateChange('init', result.record, store, warnings, { crls: [] }));
  }
  data(result.chainPem);
  status(`Signed the external CA "${result.certificate.subject.CN ?? result.name}" (${result.name}, ${result.keyName}, pathlen ${result.certificate.pathLength ?? 0}) under "${result.issuer}".`);
  status(`The certificate is at ${shown(store.path(result.files.certificate))} and the chain at ${shown(store.path(result.files.chain))}; the key and the CRL stay with the engine.`);
  if (result.nameConstraints) {
    status(`It may only issue for ${describePermitted(result.nameConstraints)} (a critical nameConstraints extension; DNS names, IP addresses and e-mail addresses not listed are shut, other kinds of name are not constrained).`);
  } else {
    await warning(UNCONSTRAINED);
  }
  status(`It will expire on ${longDate(result.certificate.notAfter)}.`);
  for (const text of result.warnings) await warning(text);
  status(`Give the engine both files; revoke it with "certified revoke --name ${result.name}". Committed as ${result.commit.slice(0, 12)}.`);
}
