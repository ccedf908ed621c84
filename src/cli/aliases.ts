/**
 * The seed's forms (`certified --ca ...`, `certified CN=..`, `--revoke`, `--ca --revoke`,
 * `--self-signed`, `--no-sign`, `--csr FILE`) rewritten to their command before parsing, so that
 * they get exactly that command's checks. Pure: argv in, argv out.
 */
export interface CommandSurface {
  /** The command names (`help` included). */
  commands: ReadonlySet<string>;
  /** The long options that take a value (their value is never read as a mode flag or a command). */
  valueOptions: ReadonlySet<string>;
  /** The long options that take none. */
  flagOptions: ReadonlySet<string>;
}

const HELP_OR_VERSION = new Set(['-h', '--help', '-V', '--version']);

/**
 * What the seed's mode flags become, the first form whose flags are all given winning; the last flag
 * of the form is dropped (`--ca --revoke` is `revoke --ca`). `--csr FILE` becomes `sign FILE`.
 * Shell completion resolves them from these same lists.
 */
export const SEED_MODES: readonly { flags: readonly [string, ...string[]]; command: string }[] = [
  { flags: ['--ca', '--revoke'], command: 'revoke' },
  { flags: ['--ca'], command: 'init' },
  { flags: ['--revoke'], command: 'revoke' },
  { flags: ['--self-signed'], command: 'self-signed' },
  { flags: ['--no-sign'], command: 'request' },
];
export const SEED_CSR = { flag: '--csr', command: 'sign' } as const;
const MODE_FLAGS: ReadonlySet<string> = new Set(SEED_MODES.flatMap((mode) => mode.flags));

export function rewriteAliases(argv: readonly string[], surface: CommandSurface): string[] {
  const args = [...argv];
  // `certified help lss`: an unknown command, with commander's "did you mean".
  if (args[0] === 'help' && args[1] !== undefined && !surface.commands.has(args[1])) return [args[1]];
  if (args.length === 0 || surface.commands.has(args[0] ?? '')) return args;

  // Walk argv once: where each mode flag is, and the first word that is not an option or its value.
  const modes = new Map<string, number[]>();
  let firstWord: number | undefined;
  let afterDashes = false;
  let csr: { index: number; length: 1 | 2; file: string } | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') {
      afterDashes = firstWord === undefined && i + 1 < args.length;
      if (afterDashes) firstWord = i + 1;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      firstWord ??= i;
      // `certified --db D revoke --ca`: what follows a command name is that command's.
      if (firstWord === i && surface.commands.has(arg)) break;
      continue;
    }
    if (arg === '--csr' || arg.startsWith('--csr=')) {
      if (csr === undefined) {
        csr = arg === '--csr' ? { index: i, length: 2, file: args[i + 1] ?? '' } : { index: i, length: 1, file: arg.slice('--csr='.length) };
      }
      if (arg === '--csr') i++;
      continue;
    }
    if (MODE_FLAGS.has(arg)) {
      modes.set(arg, [...(modes.get(arg) ?? []), i]);
      continue;
    }
    if (arg.includes('=') || HELP_OR_VERSION.has(arg) || surface.flagOptions.has(arg)) continue;
    // A value option skips its value; so does an option no command knows (`--reasn x CN=y`),
    // which the command then refuses by name, rather than taking the value for a command.
    if (surface.valueOptions.has(arg) || !(args[i + 1] ?? '-').startsWith('-')) i++;
  }

  const without = (flag: string): string[] => args.filter((_, index) => !(modes.get(flag) ?? []).includes(index));
  const mode = SEED_MODES.find(({ flags }) => flags.every((flag) => modes.has(flag)));
  if (mode) return [mode.command, ...without(mode.flags[mode.flags.length - 1] ?? '')];
  if (csr) {
    if (csr.length === 2 && csr.index + 1 >= args.length) return ['sign', ...args.slice(0, csr.index), ...args.slice(csr.index + 1)];
    return ['sign', csr.file, ...args.slice(0, csr.index), ...args.slice(csr.index + csr.length)];
  }

  if (firstWord === undefined) {
    // Only options: `certified --help` and `-V` stay the root's; anything else is issuing options.
    return args.every((arg) => HELP_OR_VERSION.has(arg)) ? args : ['issue', ...args];
  }
  const word = args[firstWord] ?? '';
  // Subject attributes (CN=..) and +names issue; any other word is a command, known or not, after root-level options.
  if (afterDashes || word.includes('=') || word.startsWith('+')) return ['issue', ...args];
  return [word, ...args.slice(0, firstWord), ...args.slice(firstWord + 1)];
}
