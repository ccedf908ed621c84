import { applyManifest, type ApplyManifestParams, type ApplyManifestResult } from '../../ca/manifest/apply-manifest.js';
import { CertifiedError } from '../../ca/errors.js';
import { redactedCommandLine } from '../command-line.js';
import { openStore, type StoreFlags } from '../context.js';
import { certificateDocument, crlDocument, filesAndCommit } from '../json-output.js';
import { canAsk, note, ON_STDERR, printJson, status, warning, withoutSpinner } from '../output.js';
import { askPasswordFrom } from '../passwords.js';
import { withProgress, type Progress } from '../progress.js';
import { resolveSecret } from '../secrets.js';
import { printPlan } from './plan.js';

export interface ApplyOptions extends StoreFlags {
  yes?: boolean;
  commitEach?: boolean;
  allowRevoke?: boolean;
  caPassword?: string;
  pin?: string;
  json?: boolean;
  quiet?: boolean;
}

const MAX_WARNINGS = 10;

export async function runApply(_args: string[], options: ApplyOptions, argv: string[]): Promise<void> {
  const store = openStore(options);
  // New keys are encrypted (and committed) only when CERTIFIED_PASSWORD is set.
  const password = await resolveSecret({ label: 'the new keys', flag: '--password', flagValue: undefined, env: 'CERTIFIED_PASSWORD', forNewKey: true });

  const result = await withProgress(options.quiet, (progress) => applyManifest(store, {
    askPassword: askPasswordFrom({ caPassword: options.caPassword, pin: options.pin }, { roles: ['ca', 'pin'] }),
    ...(password ? { password } : {}),
    commitEach: options.commitEach === true,
    allowRevoke: options.allowRevoke === true,
    commandLine: redactedCommandLine(argv),
    onPlan: (plan) => printPlan(plan, status),
    onProgress: applyProgress(progress, options.commitEach === true),
    confirm: async (plan) => {
      if (options.yes) return true;
      if (!canAsk()) {
        throw new CertifiedError('apply needs a confirmation and stdin or stderr is not a terminal', {
          code: 'CONFIRM',
          hint: 'Nothing was changed. Review "certified plan", then run "certified apply --yes".',
        });
      }
      const { confirm } = await import('@inquirer/prompts');
      const n = plan.actions.length;
      return withoutSpinner(() => confirm({ message: `Apply ${n === 1 ? 'this change' : `these ${n} changes`}?`, default: false }, ON_STDERR));
    },
  }));
  if (options.json) printJson(applyDocument(result, store));
  if (result.plan.actions.length === 0) return;
  if (!result.applied) {
    status('Nothing was changed.');
    return;
  }
  const shown = result.warnings.slice(0, MAX_WARNINGS);
  for (const text of shown) await warning(text);
  if (result.warnings.length > shown.length) await warning(`and ${result.warnings.length - shown.length} more warnings like these.`);
  if (result.issued > 0 && !password) {
    await note('the new keys are not encrypted, so they are git-ignored and stay in "private/" on this machine. Set CERTIFIED_PASSWORD to have them encrypted and committed.');
  }
  const commits = result.commits.map((commit) => commit.slice(0, 12));
  status(
    `Applied ${result.plan.actions.length} change${result.plan.actions.length === 1 ? '' : 's'} from certificates.yaml in ${commits.length} commit${commits.length === 1 ? '' : 's'}${commits.length === 1 ? ` (${commits[0]})` : ''}.`,
  );
}

/** apply --json (docs/json.md): each certificate made or revoked, with the plan's action and reason. */
function applyDocument(result: ApplyManifestResult, store: ReturnType<typeof openStore>): object {
  return {
    action: 'apply',
    applied: result.applied,
    certificates: result.done.map(({ action, record, revoked }) => ({
      ...certificateDocument(record),
      action: action.kind,
      reason: action.reason,
      replaced: revoked ? { serial: revoked.serial, notAfter: revoked.notAfter, issuer: revoked.issuer } : null,
    })),
    crls: result.crls.map((crl) => crlDocument(crl, store)),
    unchanged: result.plan.unchanged,
    ...filesAndCommit(store),
    commits: result.commits,
    warnings: result.warnings,
  };
}

/** "Comparing 40/1000 manifest entries", "Issuing 412/1000 certificates, 143/s, 4 s left", then the commit(s). */
function applyProgress(progress: Progress, commitEach: boolean): ApplyManifestParams['onProgress'] {
  return (done, total, step) => {
    if (step === 'plan') progress.count('Comparing', done, total, 'manifest entries');
    else if (step === 'issue') progress.count('Issuing', done, total, 'certificates');
    else if (commitEach) progress.count('Committing', done, total, 'changes');
    else if (done < total) progress.text(`Committing ${total} change${total === 1 ? '' : 's'}...`);
  };
}
