import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { rewriteAliases } from './aliases.js';
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
    process.exitCode = await report(error);
  } finally {
    const { closeStdin } = await import('./secrets.js');
    closeStdin();
  }
}

/** The one place errors are printed: one line, then the exit code. */
async function report(error: unknown): Promise<number> {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return 0;
    process.stderr.write(`${usageMessage(error)}\n`);
    return 2;
  }
  const { CertifiedError } = await import('../ca/errors.js');
  error = (await import('../ca/store-errors.js')).storeErrorToCertified(error) ?? error;
  if (error instanceof CertifiedError) {
    const { FLAGS, renderHint } = await import('./error-hints.js');
    const hint = renderHint(error);
    process.stderr.write(`certified: ${error.renderMessage(FLAGS)}.${hint ? ` ${hint}` : ''}\n`);
    if (process.env.DEBUG?.includes('certified') && error.cause) process.stderr.write(`${String((error.cause as Error).stack ?? error.cause)}\n`);
    return error.exitCode;
  }
  if (isPromptAbort(error)) {
    process.stderr.write('certified: cancelled; nothing was changed.\n');
    return 130;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`certified: ${message}. Re-run with DEBUG=certified for details.\n`);
  if (process.env.DEBUG?.includes('certified') && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return 1;
}

/**
 * A parse error as one line that names the command and its help:
 * certified: unknown option '--reason' for "issue". Run "certified issue --help" for usage.
 */
function usageMessage(error: CommandError): string {
  const command = error.commandName;
  // Commander appends "\n(Did you mean ls?)" or "\n(Did you mean one of a, b?)".
  const [text = '', suggestion] = error.message.split(/\n\(Did you mean (?:one of )?/);
  // Commander quotes the user's text: keep it on one line (no control characters) and short.
  let message = text
    .replace(/^error: /, '')
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, '?')
    .replace(/'([^']{60})[^']+'/g, "'$1...'")
    .replace(/\.$/, '');
  if (command && error.code === 'commander.unknownOption') message += ` for "${command}"`;
  const names = suggestion?.replace(/\?\)$/, '').split(', ').map((name) => `'${name}'`);
  message += names ? `, did you mean ${names.join(' or ')}?` : '.';
  return `certified: ${message} Run "certified ${command ? `${command} ` : ''}--help" for usage.`;
}

function isPromptAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError');
}

void main();
