import type { DistinguishedName } from '../ca/types.js';
import { ON_STDERR, canAsk } from './output.js';

const FIELDS = [
  ['C', 'Country (two letters)'],
  ['ST', 'State or province'],
  ['L', 'Locality'],
  ['O', 'Organization'],
  ['OU', 'Organizational unit'],
  ['CN', 'Common name of the CA'],
] as const;

/** Asks for the DN on a TTY, showing what was given on the command line as defaults. */
export async function promptDn(given: DistinguishedName): Promise<DistinguishedName> {
  const { input } = await import('@inquirer/prompts');
  const dn: DistinguishedName = {};
  for (const [attribute, message] of FIELDS) {
    const answer = (
      await input({ message: `${message}:`, ...(given[attribute] ? { default: given[attribute] } : {}), required: attribute === 'CN' }, ON_STDERR)
    ).trim();
    if (answer) dn[attribute] = answer;
  }
  return dn;
}

/**
 * Who confirms a revocation: the user, on a terminal, unless --yes; nobody without a terminal
 * (scripts and CI proceed as they always did) or in a dry run, which changes nothing.
 */
export function confirmation(options: { yes?: boolean | undefined; dryRun?: boolean | undefined }): { confirm?: (question: string) => Promise<boolean> } {
  if (options.yes || options.dryRun || !canAsk()) return {};
  return {
    confirm: async (question) => {
      const { confirm } = await import('@inquirer/prompts');
      return confirm({ message: question, default: false }, ON_STDERR);
    },
  };
}
