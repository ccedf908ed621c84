import { checkCa } from '../../ca/review/check-ca.js';
import { commitsWithoutTrailers } from '../../ca/review/history.js';
import { UsageError } from '../../ca/errors.js';
import { renderText } from '../../ca/text.js';
import { FLAGS } from '../error-hints.js';
import { openStore, type StoreFlags } from '../context.js';
import { data, note, shown, status } from '../output.js';

export interface CheckOptions extends StoreFlags {
  json?: boolean;
}

/** `certified check`: exit 0 when the CA is healthy, 1 with one finding per line otherwise. */
export async function runCheck(args: string[], options: CheckOptions, _argv: string[]): Promise<void> {
  if (args.length) throw new UsageError('check takes no arguments', 'Example: certified check --json');
  const store = openStore(options);
  const checked = await checkCa(store);
  // Not a finding: the history cannot be mended without rewriting it, so it must not fail every later check.
  const withoutTrailers = (await commitsWithoutTrailers(store)).map((entry) => entry.shortCommit);
  if (withoutTrailers.length) {
    await note(`${withoutTrailers.length} commit(s) made by certified lost their trailers to a git hook (${withoutTrailers.slice(0, 5).join(', ')}${withoutTrailers.length > 5 ? ', ...' : ''}): "certified log" shows what their messages still say.`);
  }
  const result = { ...checked, findings: checked.findings.map((item) => ({ ...item, message: renderText(item.message, FLAGS) })) };
  if (options.json) {
    data(`${JSON.stringify({ ok: result.findings.length === 0, ...result, ...(withoutTrailers.length ? { commitsWithoutTrailers: withoutTrailers } : {}) }, null, 2)}\n`);
  } else {
    for (const item of result.findings) data(`${item.path}: ${item.message} [${item.code}]`);
  }
  if (result.uncheckedKeys.length) {
    const listed = result.uncheckedKeys.slice(0, 3).map((path) => `"${path}"`).join(', ');
    const more = result.uncheckedKeys.length > 3 ? ` and ${result.uncheckedKeys.length - 3} more` : '';
    status(`Note: ${result.uncheckedKeys.length} encrypted key(s) could not be compared with their certificates, as check asks for no password: ${listed}${more}.`);
  }
  const counted = `${result.certificates} certificate(s), ${result.records} record(s), ${result.crls} CRL(s)`;
  if (result.findings.length) {
    status(`certified: ${result.findings.length} finding(s) in ${shown(store.dir)} (${counted} checked).`);
    process.exitCode = 1;
  } else {
    status(`The CA in ${shown(store.dir)} passes every check (${counted}).`);
  }
}
