import { setFlagsFromString } from 'node:v8';
import { checkCa } from '../../ca/review/check-ca.js';
import { commitsWithoutTrailers } from '../../ca/review/history.js';
import { UsageError } from '../../ca/errors.js';
import { renderText } from '../../ca/text.js';
import { FLAGS } from '../error-hints.js';
import { openStore, type StoreFlags } from '../context.js';
import { data, note, printJson, shown, status } from '../output.js';
import { askPasswordFrom } from '../passwords.js';
import { withProgress } from '../progress.js';

export interface CheckOptions extends StoreFlags {
  json?: boolean;
  pin?: string;
  rootPin?: string;
  since?: string;
  quiet?: boolean;
}

/** `certified check`: exit 0 when the CA is healthy, 1 with one finding per line otherwise. */
export async function runCheck(args: string[], options: CheckOptions, _argv: string[]): Promise<void> {
  if (args.length) throw new UsageError('check takes no arguments', 'Example: certified check --json');
  const store = openStore(options);
  // Read from git's log while the CA is checked; reported after.
  const trailersLost = commitsWithoutTrailers(store);
  trailersLost.catch(() => undefined);
  // Only a token's PIN, never a prompt: keys on a token are compared when the PIN is given.
  const checked = await withHeapKeptSmall(() =>
    withProgress(options.quiet, (progress) => checkCa(store, {
      askPassword: askPasswordFrom({ pin: options.pin, rootPin: options.rootPin }, { roles: ['pin', 'root-pin'], prompt: false }),
      ...(options.since === undefined ? {} : { since: options.since }),
      onProgress: (done, total, step) => progress.count(step === 'read' ? 'Reading' : 'Verifying', done, total, 'certificates'),
    })),
  );
  const scope = checked.scope;
  if (scope && 'fallback' in scope) status(`Note: checking the whole CA, not only what changed since "${scope.since}": ${scope.fallback}.`);
  // Not a finding: the history cannot be mended without rewriting it, so it must not fail every later check.
  const withoutTrailers = (await trailersLost).map((entry) => entry.shortCommit);
  if (withoutTrailers.length) {
    await note(`${withoutTrailers.length} commit(s) made by certified lost their trailers to a git hook (${withoutTrailers.slice(0, 5).join(', ')}${withoutTrailers.length > 5 ? ', ...' : ''}): "certified log" shows what their messages still say.`);
  }
  const result = { ...checked, findings: checked.findings.map((item) => ({ ...item, message: renderText(item.message, FLAGS) })) };
  if (options.json) {
    const { scope: _scope, ...rest } = result;
    const since = scope ? { since: scope.since, scope: 'fallback' in scope ? { full: true, reason: scope.fallback, changed: scope.changed } : { full: false, changed: scope.changed, certificates: scope.certificates, crls: scope.crls } } : {};
    printJson({ ok: result.findings.length === 0, ...rest, ...since, ...(withoutTrailers.length ? { commitsWithoutTrailers: withoutTrailers } : {}) });
  } else {
    for (const item of result.findings) data(`${item.path}: ${item.message} [${item.code}]`);
  }
  if (result.uncheckedKeys.length) {
    const listed = result.uncheckedKeys.slice(0, 3).map((path) => `"${path}"`).join(', ');
    const more = result.uncheckedKeys.length > 3 ? ` and ${result.uncheckedKeys.length - 3} more` : '';
    status(`Note: ${result.uncheckedKeys.length} encrypted key(s) could not be compared with their certificates, as check asks for no password: ${listed}${more}.`);
  }
  const underOldRoot = result.underOldRoot ?? [];
  if (underOldRoot.length) {
    const listed = underOldRoot.slice(0, 10).map((name) => `"${name}"`).join(', ');
    status(`Note: ${underOldRoot.length} certificate(s) still chain to the old root, ${listed}${underOldRoot.length > 10 ? ', ...' : ''}: "certified renew" moves each to the new root.`);
  }
  const tokenKeys = result.tokenKeys ?? [];
  const matched = tokenKeys.filter((key) => key.result === 'match').map((key) => `"${key.name}"`);
  if (matched.length === 1) status(`The key of ${matched[0]!} on a PKCS#11 token matches its certificate.`);
  else if (matched.length > 1) status(`The keys of ${matched.slice(0, -1).join(', ')} and ${matched.at(-1)!} on PKCS#11 tokens match their certificates.`);
  for (const key of tokenKeys.filter((key) => key.result === 'unchecked')) {
    status(`Note: the key of "${key.name}" on the PKCS#11 token (${key.uri}) could not be compared with its certificate: ${key.reason ?? 'the token could not be reached'}.`);
  }
  const changedSince = scope && !('fallback' in scope) ? ` changed since "${scope.since}" or affected by ${scope.changed.length === 1 ? 'that change' : 'those changes'}` : '';
  const counted = `${result.certificates} certificate(s), ${result.records} record(s), ${result.crls} CRL(s)${changedSince}`;
  if (result.findings.length) {
    status(`certified: ${result.findings.length} finding(s) in ${shown(store.dir)} (${counted} checked).`);
    process.exitCode = 1;
  } else {
    status(`The CA in ${shown(store.dir)} passes every check (${counted}).`);
  }
}

/**
 * A check keeps every record and the CAs' views, and turns each certificate into short-lived
 * garbage, much of it promoted: with V8's defaults each thread's heap grows far past what it holds.
 * - The young generation doubles while many objects survive, up to 32 MiB; kept at its first size,
 *   a full check at 10,000 certificates peaks ~18 MiB lower, for no more CPU time.
 * - After a full collection the old generation may grow up to 4x what survived before the next
 *   one, so the main thread (~20 MiB live) reached ~60 MiB, mostly garbage. Let grow by half, the
 *   heaps are collected 7 times instead of 3 (~50 ms more of a 20 CPU-second check), and the
 *   check peaks ~35 MiB lower.
 * The settings are read whenever a space would grow, and a worker thread starting sets them back:
 * so they are set again once each has started. They are V8's defaults again after the check: a
 * code cache V8 makes records its flags, and the launcher may make one as the process exits, which
 * every other command would then refuse.
 */
async function withHeapKeptSmall<T>(work: () => Promise<T>): Promise<T> {
  // A setting the user gave Node is theirs: neither changed nor reset.
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map((arg) => arg.replace(/^-{1,2}/, '--').replace(/_/g, '-'));
  const settings = HEAP_SETTINGS.filter(({ flag }) => !given.some((arg) => arg.startsWith(`--${flag}`)));
  if (settings.length === 0) return work();
  const keep = () => setFlagsFromString(settings.map(({ flag, kept }) => `--${flag}=${kept}`).join(' '));
  const keepInWorker = (worker: import('node:worker_threads').Worker) => worker.once('online', keep);
  keep();
  process.on('worker', keepInWorker);
  try {
    return await work();
  } finally {
    process.off('worker', keepInWorker);
    setFlagsFromString(settings.map(({ flag, usual }) => `--${flag}=${usual}`).join(' '));
  }
}

/** V8's settings a check keeps small, and their defaults. */
const HEAP_SETTINGS = [
  { flag: 'semi-space-growth-factor', kept: 1, usual: 2 },
  { flag: 'heap-growing-percent', kept: 50, usual: 0 },
];
