import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { rewriteAliases } from './aliases.js';
import { closeEnough } from './suggestions.js';
import { buildProgram, commandNames, declaredOptions, type CommandError } from './program.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // `certified ls | head` closes stdout early: that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  try {
    const program = buildProgram(version, argv);
    if (argv.length === 0) {
      program.outputHelp();
      return;
    }
    const args = rewriteAliases(argv, { commands: commandNames(program), ...declaredOptions(program) });
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    process.exitCode = await report(error, jsonRequested(argv));
  } finally {
    const { closeStdin } = await import('./secrets.js');
    closeStdin();
  }
}

/** Whether the command line asks for JSON (read before parsing, so that a parse error is JSON too). */
function jsonRequested(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/**
 * The one place errors are printed: one line on stderr, then the exit code. With --json, the same
 * error is also one JSON object on stdout, for the script that asked.
 */
async function report(error: unknown, json: boolean): Promise<number> {
  const failure = await describe(error);
  if (failure.exitCode === 0) return 0;
  process.stderr.write(`certified: ${failure.line}\n`);
  if (json) {
    const { jsonPrinted, printJson } = await import('./output.js');
    const { errorDocument } = await import('./json-output.js');
    // One document per run: after it (serve's line), stdout stays as it is.
    if (!jsonPrinted()) printJson(errorDocument(failure.code, failure.message, failure.hint));
  }
  return failure.exitCode;
}

interface Failure {
  code: string;
  message: string;
  hint: string | undefined;
  /** What stderr shows after "certified: ". */
  line: string;
  exitCode: number;
}

async function describe(error: unknown): Promise<Failure> {
  if (error instanceof CommanderError) {
    const { message, hint } = usageMessage(error);
    return { code: 'USAGE', message, hint, line: `${message} ${hint}`, exitCode: error.exitCode === 0 ? 0 : 2 };
  }
  const { CertifiedError } = await import('../ca/errors.js');
  error = (await import('../ca/store-errors.js')).storeErrorToCertified(error) ?? error;
  if (error instanceof CertifiedError) {
    const { FLAGS, renderHint } = await import('./error-hints.js');
    const hint = renderHint(error);
    const message = error.renderMessage(FLAGS);
    if (process.env.DEBUG?.includes('certified') && error.cause) process.stderr.write(`${String((error.cause as Error).stack ?? error.cause)}\n`);
    return { code: error.code, message, hint, line: `${message}.${hint ? ` ${hint}` : ''}`, exitCode: error.exitCode };
  }
  if (isPromptAbort(error)) {
    return { code: 'CANCELLED', message: 'cancelled; nothing was changed', hint: undefined, line: 'cancelled; nothing was changed.', exitCode: 130 };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (process.env.DEBUG?.includes('certified') && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  const hint = 'Re-run with DEBUG=certified for details.';
  return { code: 'INTERNAL', message, hint, line: `${message}. ${hint}`, exitCode: 1 };
}

/**
 * A parse error as one line that names the command and its help:
 * certified: unknown option '--reason' for "issue". Run "certified issue --help" for usage.
 */
function usageMessage(error: CommandError): { message: string; hint: string } {
  const command = error.commandName;
  // Commander appends "\n(Did you mean ls?)" or "\n(Did you mean one of a, b?)".
  const [text = '', suggestion] = error.message.split(/\n\(Did you mean (?:one of )?/);
  // Commander quotes the user's text: keep it on one line (no control characters) and short.
  let message = text
    .replace(/^error: /, '')
    // An unknown --option=VALUE may be a mistyped secret flag (--pasword=...): its value is not repeated.
    .replace(/'(--[^'=\s]+)=[^']*'/g, "'$1=***'")
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, '?')
    .replace(/'([^']{60})[^']+'/g, "'$1...'")
    .replace(/\.$/, '');
  if (command && error.code === 'commander.unknownOption') message += ` for "${command}"`;
  const typed = /'([^']*)'/.exec(text)?.[1] ?? '';
  const names = suggestion
    ?.replace(/\?\)$/, '')
    .split(', ')
    .filter((name) => error.code !== 'commander.unknownOption' || closeEnough(typed, name))
    .map((name) => `'${name}'`);
  message += names?.length ? `, did you mean ${names.join(' or ')}?` : '.';
  return { message, hint: `Run "certified ${command ? `${command} ` : ''}--help" for usage.` };
}

function isPromptAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError');
}

void main();
