import { notBuiltYet } from '../not-built-yet.js';

// Placeholder: see the open issue that owns this command.
export async function runSignCsr(_args: string[], _options: unknown, _argv: string[]): Promise<void> {
  throw notBuiltYet('sign-csr');
}
