import { createInterface, type Interface } from 'node:readline';
import { InvalidInputError, PasswordError } from '../ca/errors.js';
import { SECRET_OPTIONS } from './command-line.js';

let reader: { rl: Interface; lines: AsyncIterator<string> } | undefined;
/** The lines read so far: line i belongs to the i-th secret flag given as "-". */
const stdinLines: Array<string | undefined> = [];
/** Secret flags given as "-" in the order of the command line; then those it did not show, in the order asked. */
let stdinFlags: string[] | undefined;

async function readStdinLine(): Promise<string | undefined> {
  if (!reader) {
    const rl = createInterface({ input: process.stdin, terminal: false });
    reader = { rl, lines: rl[Symbol.asyncIterator]() };
  }
  const next = await reader.lines.next();
  return next.done ? undefined : next.value;
}

/** `--p12-password - --password -` or `--password=-`: the secret flags that read stdin, as typed. */
function stdinFlagsOf(argv: string[]): string[] {
  const flags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') break;
    const equals = arg.indexOf('=');
    if (equals > 0 && SECRET_OPTIONS.includes(arg.slice(0, equals))) {
      if (arg.slice(equals + 1) === '-') flags.push(arg.slice(0, equals));
    } else if (SECRET_OPTIONS.includes(arg)) {
      if (argv[i + 1] === '-') flags.push(arg);
      i++;
    }
  }
  return flags;
}

/**
 * The line of stdin for a secret flag given as "-": one line per such flag, in the order the flags
 * stand on the command line, whatever order the command needs them in (a flag given twice takes
 * the line of its last "-", as its value is the last one).
 */
async function stdinLineFor(flag: string): Promise<string | undefined> {
  stdinFlags ??= stdinFlagsOf(process.argv.slice(2));
  let index = stdinFlags.lastIndexOf(flag);
  if (index < 0) index = stdinFlags.push(flag) - 1;
  while (stdinLines.length <= index) stdinLines.push(await readStdinLine());
  return stdinLines[index];
}

export function closeStdin(): void {
  reader?.rl.close();
  reader = undefined;
  stdinLines.length = 0;
  stdinFlags = undefined;
}

export interface SecretRequest {
  /** What the secret is for, e.g. "the root key". */
  label: string;
  flag: string;
  flagValue: string | undefined;
  env: string;
  /** Prompt on a TTY when no other source gave it; an optional one may be left empty. */
  prompt?: { confirm: boolean; optional?: boolean };
  /** The secret will encrypt a new key: enforce a minimum length. */
  forNewKey?: boolean;
}

export const MIN_PASSWORD_LENGTH = 8;

/** From the flag (`-` reads a line of stdin), the environment, or a masked prompt on a TTY. */
export async function resolveSecret(request: SecretRequest): Promise<string | undefined> {
  let secret: string | undefined;
  if (request.flagValue === '-') {
    secret = await stdinLineFor(request.flag);
    if (secret === undefined) throw new PasswordError(`${request.flag} - found no line on stdin`, `Pipe the password in, e.g. printf '%s\\n' "$PASSWORD" | certified ... ${request.flag} -`);
  } else if (request.flagValue !== undefined) {
    secret = request.flagValue;
  } else if (process.env[request.env]) {
    secret = process.env[request.env];
  } else if (request.prompt && process.stdin.isTTY) {
    secret = await promptSecret(request.label, request.prompt.confirm, request.prompt.optional === true);
  }
  if (secret !== undefined && request.forNewKey && [...secret].length < MIN_PASSWORD_LENGTH) {
    throw new InvalidInputError(`the password for ${request.label} is too short`, `Use at least ${MIN_PASSWORD_LENGTH} characters.`);
  }
  return secret;
}

export function requireSecret(secret: string | undefined, request: SecretRequest): string {
  if (secret === undefined || secret === '') {
    throw new PasswordError(`${request.label} needs a password and none was given`, `Pass ${request.flag} - (one line on stdin) or set ${request.env}.`);
  }
  return secret;
}

async function promptSecret(label: string, confirm: boolean, optional: boolean): Promise<string | undefined> {
  const { password } = await import('@inquirer/prompts');
  const first = await password({ message: `Password for ${label}${optional ? ' (empty for none)' : ''}:`, mask: '*' });
  if (optional && first === '') return undefined;
  if (confirm) {
    const again = await password({ message: 'Repeat the password:', mask: '*' });
    if (again !== first) throw new PasswordError('the two passwords differ', 'Run the command again and type the same password twice.');
  }
  return first;
}
