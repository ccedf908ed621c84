import { CertifiedError } from './errors.js';

/**
 * Asked, with the summary of a change that cannot be undone (a revocation), right before it is
 * written; false leaves everything as it was. The caller decides who answers (a terminal, --yes).
 */
export type Confirm = (question: string) => Promise<boolean>;

export class DeclinedError extends CertifiedError {
  constructor() {
    super('cancelled; nothing was changed', { code: 'DECLINED' });
  }
}

/** Asks `confirm`, when there is one, and stops the change when the answer is no. */
export async function confirmChange(confirm: Confirm | undefined, question: string): Promise<void> {
  if (confirm && !(await confirm(question))) throw new DeclinedError();
}
