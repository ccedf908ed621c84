import { resolve } from 'node:path';
import { checkExportPkcs12, exportPkcs12 } from '../../ca/export/export-pkcs12.js';
import { UsageError } from '../../ca/errors.js';
import { validateName } from '../../ca/names.js';
import { openStore } from '../context.js';
import { certificateDocument } from '../json-output.js';
import { printJson, shown, status, warning } from '../output.js';
import { askPasswordFrom } from '../passwords.js';
import { requireSecret, resolveSecret, type SecretRequest } from '../secrets.js';

export interface ExportOptions {
  db?: string;
  lockTimeout?: string;
  p12?: boolean;
  p12Password?: string;
  password?: string;
  out?: string;
  json?: boolean;
}

export async function runExport(args: string[], options: ExportOptions): Promise<void> {
  if (!options.p12) throw new UsageError('say which format to export', 'Use --p12 (the only format for now), like: certified export web --p12 --out web.p12.');
  const name = validateName(args[0] ?? '');
  const out = resolve(options.out ?? `${name}.p12`);
  const store = openStore(options);
  await checkExportPkcs12(store, { name, out });
  const p12Request: SecretRequest = {
    label: `the file "${out}"`,
    flag: '--p12-password',
    flagValue: options.p12Password,
    env: 'CERTIFIED_P12_PASSWORD',
    prompt: { confirm: true },
    forNewKey: true,
  };
  const p12Password = requireSecret(await resolveSecret(p12Request), p12Request);

  const result = await exportPkcs12(store, { name, p12Password, out, askPassword: askPasswordFrom({ password: options.password }) });
  status(`Exported "${name}" with its key and ${result.certificates - 1} issuing CA certificate${result.certificates === 2 ? '' : 's'} to ${shown(out)} (PKCS#12, AES-256, SHA-256 MAC).`);
  const caution = `${shown(out)} holds the private key, protected only by its password: do not commit it; delete it once it is imported.`;
  await warning(caution);
  if (options.json) {
    printJson({
      action: 'export',
      ...(result.record ? certificateDocument(result.record) : { name }),
      format: 'pkcs12',
      file: out,
      certificateCount: result.certificates,
      files: [out],
      commit: null,
      warnings: [caution],
    });
  }
  status('Import it in a browser or the OS key store, or check it with: openssl pkcs12 -info -nokeys -in ' + shown(out).slice(1, -1));
}
