import { exportHiera } from '../../ca/export/export-yaml.js';
import { openStore, type StoreFlags } from '../context.js';
import { renderHieraYaml } from '../hiera-yaml.js';
import { data, note, printJson } from '../output.js';
import { askPasswordFrom } from '../passwords.js';

export interface YamlOptions extends StoreFlags {
  password?: string;
  json?: boolean;
}

export async function runYaml(_args: string[], options: YamlOptions, _argv: string[]): Promise<void> {
  const store = openStore(options);
  // One password for every encrypted key (never prompted): the keys it does not open are left out.
  const result = await exportHiera(store, askPasswordFrom({ password: options.password }, { prompt: false }));
  if (options.json) printJson({ entries: Object.fromEntries(result.entries.map(({ key, value }) => [key, value])), skipped: result.skipped });
  else data(renderHieraYaml(result.entries));
  for (const { path, reason } of result.skipped) {
    await note(
      reason === 'no password'
        ? `"${path}" is encrypted and left out: pass --password - (or set CERTIFIED_PASSWORD) to include it.`
        : reason === 'damaged'
          ? `"${path}" is left out: it is damaged (its public key is not the one its private key gives); restore it from your backup.`
          : `"${path}" is left out: the password given does not open it.`,
    );
  }
}
