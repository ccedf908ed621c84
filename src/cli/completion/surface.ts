import type { Argument, Command, Option } from 'commander';
import { CERTS_DIR, CONFIG_FILE, CRL_DIR, DEFAULT_CA_DIRECTORY, OLD_ROOT_NAME, RESERVED_NAMES, ROOT_NAME } from '../../ca/layout.js';
import { REVOCATION_REASONS } from '../../ca/revocation/reasons.js';
import { SEED_CSR, SEED_MODES } from '../aliases.js';
import * as flag from '../flags.js';

/**
 * What shell completion knows, read from the commander program at run time so that it never drifts
 * from the real options: each command with its options, which of them take a value and what that
 * value can be, and what its operands can be. The scripts (bash.ts, zsh.ts, fish.ts) only render it.
 */

/** Where the candidates for a value come from when they are not a fixed set. */
export type Source =
  /** The certificate names of the CA: certs/NAME.crt, without chain files and the CA's own. */
  | 'certificates'
  /** The CAs that sign: crl/NAME.crl, without the kept CRLs of replaced CAs (NAME-SERIAL.crl). */
  | 'issuers'
  /** The CAs that sign certificates for servers and clients: the issuers without the roots. */
  | 'leaf-issuers'
  | 'files'
  | 'directories'
  | 'commands';

export interface Values {
  choices: readonly string[];
  sources: readonly Source[];
  /** Put before each candidate: a certificate name given as an operand completes as --name=NAME. */
  prefix?: string;
}

export interface CompletedOption {
  /** ['-h', '--help'] or ['--db']. */
  flags: string[];
  description: string;
  /** Undefined for an option that takes no value; empty values for free text (a password, a number). */
  values?: Values;
}

export interface CompletedCommand {
  name: string;
  description: string;
  options: CompletedOption[];
  /** What a word that is not an option can be. */
  operands?: Values;
}

export interface CompletionSurface {
  /** Every command users type (the hidden merge driver left out), and `help`. */
  commands: CompletedCommand[];
  /** Before a command: help, version, the seed's mode flags and the CA directory, then a command name. */
  root: CompletedCommand;
  /** The seed's mode flags: the first form whose flags are all given wins (see aliases.ts). */
  modes: readonly { flags: readonly string[]; command: string }[];
  /** `--csr FILE` (no mode flag given) is `sign FILE`. */
  csr: { flag: string; command: string };
  /** How the scripts find the CA directory and its names, as certified does (see ca-directory.ts). */
  layout: { configFile: string; defaultDirectory: string; certsDir: string; crlDir: string; reserved: string[]; roots: string[] };
}

const FREE: Values = { choices: [], sources: [] };
const of = (...sources: Source[]): Values => ({ choices: [], sources });

/** An option's value by its placeholder (`--db <dir>`): the placeholder already says what it is. */
const OPTION_VALUES: Record<string, Values> = {
  '<certificate>': of('certificates'),
  '<ca>': of('issuers'),
  '<reason>': { choices: REVOCATION_REASONS, sources: [] },
  '<file>': of('files'),
  '<path>': of('files'),
  '<dir>': of('directories'),
};

/** An operand by its name (`export <name>`). */
const OPERAND_VALUES: Record<string, Values> = {
  name: of('certificates'),
  'file-or-name': of('certificates', 'files'),
  'csr-file': of('files'),
};

/** The commands whose --issuer signs a certificate for a server or client, which the root never does. */
const LEAF_ISSUING = new Set(['issue', 'renew', 'sign']);

const HELP: CompletedOption = { flags: ['-h', '--help'], description: 'print the help' };

export function completionSurface(program: Command): CompletionSurface {
  // Commander's own list of what help shows: the hidden merge driver is not in it.
  const visible = program.createHelp().visibleCommands(program).filter((command) => command.name() !== 'help');
  const commands = visible.map(completedCommand);
  const names = commands.map((command) => command.name);
  commands.push({ name: 'help', description: 'print the help of a command', options: [HELP], operands: { choices: names, sources: [] } });
  const root: CompletedCommand = {
    name: '',
    description: program.description(),
    options: [
      HELP,
      ...program.options.map((option) => completedOption(option)),
      ...SEED_MODES.filter((mode) => mode.flags.length === 1).map((mode) => ({ flags: [...mode.flags], description: `the seed's form of "certified ${mode.command}"` })),
      { flags: [SEED_CSR.flag], description: `the seed's form of "certified ${SEED_CSR.command} FILE"`, values: of('files') },
      ...flag.store().map((option) => completedOption(option)),
    ],
    operands: of('commands'),
  };
  return {
    commands,
    root,
    modes: SEED_MODES,
    csr: SEED_CSR,
    layout: { configFile: CONFIG_FILE, defaultDirectory: DEFAULT_CA_DIRECTORY, certsDir: CERTS_DIR, crlDir: CRL_DIR, reserved: [...RESERVED_NAMES], roots: [ROOT_NAME, OLD_ROOT_NAME] },
  };
}

function completedCommand(command: Command): CompletedCommand {
  const leafIssuing = LEAF_ISSUING.has(command.name());
  const options = [HELP, ...command.options.map((option) => completedOption(option, leafIssuing))];
  const [first] = command.registeredArguments;
  // revoke and renew name a certificate by CN=.. or --name NAME: a bare name would be refused.
  const byName = options.some((option) => option.flags.includes('--name') && option.values?.sources.includes('certificates'));
  const operands = byName ? { ...of('certificates'), prefix: '--name=' } : first && operandValues(first);
  return { name: command.name(), description: command.description(), options, ...(operands ? { operands } : {}) };
}

function completedOption(option: Option, leafIssuing = false): CompletedOption {
  const flags = [option.short, option.long].filter((name): name is string => name !== undefined);
  if (!option.required && !option.optional) return { flags, description: option.description };
  const placeholder = /<[^>]+>|\[[^\]]+\]/.exec(option.flags)?.[0] ?? '';
  const values = option.argChoices
    ? { choices: option.argChoices, sources: [] }
    : leafIssuing && placeholder === '<ca>'
      ? of('leaf-issuers')
      : (OPTION_VALUES[placeholder] ?? FREE);
  return { flags, description: option.description, values };
}

function operandValues(argument: Argument): Values | undefined {
  if (argument.argChoices) return { choices: argument.argChoices, sources: [] };
  return OPERAND_VALUES[argument.name()];
}
