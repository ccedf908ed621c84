import { describeKey } from '../../ca/types.js';
import { formatAction, planManifest, type Plan } from '../../ca/manifest/plan.js';
import { formatSan } from '../../ca/names.js';
import { openStore, type StoreFlags } from '../context.js';
import { data, printJson, status } from '../output.js';
import { withProgress } from '../progress.js';

export interface PlanOptions extends StoreFlags {
  json?: boolean;
  quiet?: boolean;
}

/** Exit code of `certified plan` when there is something to do (0: nothing, 1: error). */
export const PLAN_HAS_CHANGES = 2;

export async function runPlan(_args: string[], options: PlanOptions): Promise<void> {
  const store = openStore(options);
  // Under the lock where it can be taken, so that a change an interrupted command left is
  // finished or undone first; a read-only checkout (a CI job, a reviewer's clone) is planned as is.
  const plan = await withProgress(options.quiet, (progress) =>
    store.lockedIfWritable(() => planManifest(store, new Date(), (done, total) => progress.count('Comparing', done, total, 'manifest entries'))),
  );
  if (options.json) printJson(planJson(plan));
  else printPlan(plan, data);
  if (plan.actions.length) process.exitCode = PLAN_HAS_CHANGES;
}

/** The plan's lines, then a summary on stderr. Shared with `certified apply`. */
export function printPlan(plan: Plan, line: (text: string) => void): void {
  for (const action of plan.actions) line(formatAction(action));
  if (plan.actions.length === 0) {
    status(`Nothing to do: the CA matches certificates.yaml (${plan.unchanged} certificate${plan.unchanged === 1 ? '' : 's'}).`);
    return;
  }
  const count = (kind: string) => plan.actions.filter((action) => action.kind === kind).length;
  status(
    `Plan: ${count('issue')} to issue, ${count('renew')} to renew, ${count('reissue')} to reissue, ${count('revoke')} to revoke; ${plan.unchanged} unchanged.`,
  );
}

function planJson(plan: Plan): unknown {
  return {
    changes: plan.actions.length,
    unchanged: plan.unchanged,
    renewBeforeDays: plan.manifest.renewBeforeDays,
    actions: plan.actions.map((action) => ({
      action: action.kind,
      name: action.name,
      reason: action.reason,
      ...(action.entry
        ? {
            cn: action.entry.cn,
            sans: action.entry.sans.map(formatSan),
            profile: action.entry.profile === 'server+client' ? 'both' : action.entry.profile,
            key: describeKey(action.entry.key),
            days: action.entry.days,
            issuer: action.entry.issuer,
          }
        : {}),
      ...(action.record ? { current: { serial: action.record.serial, notAfter: action.record.notAfter, issuer: action.record.issuer } } : {}),
    })),
  };
}
