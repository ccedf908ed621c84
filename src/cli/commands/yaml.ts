import { exportHiera } from '../../ca/export/export-yaml.js';
import { openStore, type StoreFlags } from '../context.js';
import { renderHieraYaml } from '../hiera-yaml.js';
import { data, note } from '../output.js';
import { resolveSecret } from '../secrets.js';

export interface YamlOptions extends StoreFlags {
  password?: string;
}

export async function runYaml(_args: string[], options: YamlOptions, _argv: string[]): Promise<void> {
  const store = openStore(options);
  const password = await resolveSecret({
    label: 'the encrypted keys',
    flag: '--password',
    flagValue: options.password,
    env: 'CERTIFIED_PASSWORD',
  });
  const result = await exportHiera(store, password);
  data(renderHieraYaml(result.entries));
  for (const { path, reason } of result.skipped) {
    await note(
      reason === 'no password'
        ? `"${path}" is encrypted and left out: pass --password - (or set CERTIFIED_PASSWORD) to include it.`
        : `"${path}" is left out: the password given does not open it.`,
    );
  }
}
