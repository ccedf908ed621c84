import { InvalidInputError, PasswordError } from '../ca/errors.js';
import { STDIN_LINE_LIMIT, formatLimit } from '../ca/input-files.js';
import { SECRET_OPTIONS } from './command-line.js';
import { ON_STDERR, canAsk, withoutSpinner } from './output.js';

let reader: { chunks: AsyncIterator<Buffer | string>; pending: string; ended: boolean } | undefined;
/** The lines read so far: line i belongs to the i-th secret flag given as "-". */
const stdinLines: Array<string | undefined> = [];
/** Secret flags given as "-" in the order of the command line; then those it did not show, in the order asked. */
let stdinFlags: string[] | undefined;

/** One line of stdin, never buffering more than STDIN_LINE_LIMIT bytes without a newline (stdin may be /dev/zero). */
async function readStdinLine(): Promise<string | undefined> {
  if (!reader) {
    process.stdin.setEncoding('utf8'); // a character split across two chunks stays whole
    reader = { chunks: process.stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>, pending: '', ended: false };
  }
  for (;;) {
    const newline = reader.pending.indexOf('\n');
    if (newline >= 0) {
      const line = reader.pending.slice(0, newline);
      reader.pending = reader.pending.slice(newline + 1);
      return line.endsWith('\r') ? line.slice(0, -1) : line;
    }
    if (Buffer.byteLength(reader.pending) > STDIN_LINE_LIMIT) {
      throw new InvalidInputError(`a line of stdin is longer than ${formatLimit(STDIN_LINE_LIMIT)}, more than a password may be`, 'Pipe one password per line, e.g. printf \'%s\\n\' "$PASSWORD" | certified ...');
    }
    if (reader.ended) {
      const rest = reader.pending;
      reader.pending = '';
      return rest === '' ? undefined : rest;
    }
    const next = await reader.chunks.next();
    if (next.done) reader.ended = true;
    else reader.pending += typeof next.value === 'string' ? next.value : next.value.toString('utf8');
  }
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
  void reader?.chunks.return?.();
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
  /** What the prompt asks for: "Password" unless said otherwise ("PIN"). */
  noun?: string;
}

export const MIN_PASSWORD_LENGTH = 8;

/** The password that encrypts a new root key: required, and typed twice at a prompt. */
export function newRootKeySecret(label: string, flag: string, flagValue: string | undefined, env: string): SecretRequest {
  return { label, flag, flagValue, env, prompt: { confirm: true }, forNewKey: true };
}

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
  } else if (request.prompt && canAsk()) {
    const { confirm, optional } = request.prompt;
    secret = await withoutSpinner(() => promptSecret(request.noun ?? 'Password', request.label, confirm, optional === true));
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

async function promptSecret(noun: string, label: string, confirm: boolean, optional: boolean): Promise<string | undefined> {
  const { password } = await import('@inquirer/prompts');
  const first = await password({ message: `${noun} for ${label}${optional ? ' (empty for none)' : ''}:`, mask: '*' }, ON_STDERR);
  if (optional && first === '') return undefined;
  if (confirm) {
    const again = await password({ message: 'Repeat the password:', mask: '*' }, ON_STDERR);
    if (again !== first) throw new PasswordError('the two passwords differ', 'Run the command again and type the same password twice.');
  }
  return first;
}
