import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type { RootOptions } from './options.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const EXAMPLES = `
Examples:
  $ certified --ca C=US O=Example CN="Example CA" --root-password -
  $ certified CN=host.example.com +alt.example.com +10.0.0.1
  $ certified --client CN=alice +alice@example.com --days 90
  $ certified --bits 3072 --name web CN="Web frontend" +web.example.com

The CA lives in ./etc/ssl (--db DIR or CERTIFIED_DB to change); every change is one git commit.
Passwords: the flag, "-" to read one line of stdin, CERTIFIED_ROOT_PASSWORD,
CERTIFIED_INTERMEDIATE_PASSWORD, CERTIFIED_CA_PASSWORD, CERTIFIED_PASSWORD, or a prompt on a TTY.`;

function buildProgram(argv: string[]): Command {
  const program = new Command('certified')
    .description('run an internal certificate authority out of a git repository')
    .usage('[options] [C=..] [ST=..] [L=..] [O=..] [OU=..] CN=.. [+name ...]')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .argument('[subject...]', 'subject attributes (C= ST= L= O= OU= CN=) and +names: DNS, IPv4/IPv6, e-mail, +URI:uri')
    .option('--ca', 'make the CA: a root and an intermediate signed by it')
    .option('--db <dir>', 'the CA directory (default: etc/ssl, or CERTIFIED_DB)')
    .option('--client', 'a client certificate (clientAuth only)')
    .option('--server', 'a server certificate (serverAuth only)')
    .addOption(new Option('--key-type <type>', 'key algorithm').choices(['ecdsa', 'rsa']))
    .option('--bits <n>', 'RSA key size (implies --key-type rsa; at least 2048)')
    .option('--days <n>', 'validity in days (certificates 365, CAs 3650)')
    .option('--name <name>', 'file name for the certificate (default: the CN, lower-case, spaces as dashes)')
    .option('--password <password>', 'encrypt the new key (then it is committed)')
    .option('--ca-password <password>', 'password of the intermediate key')
    .option('--root-password <password>', 'password of the root key')
    .option('--intermediate-password <password>', 'encrypt the intermediate key (then it is committed)')
    .option('--crl-url <url>', 'CRL URL put in every certificate the intermediate issues')
    .option('--root-crl-url <url>', "CRL URL put in the intermediate (the root's CRL)")
    .option('--ocsp-url <url>', 'OCSP URL put in the AIA of the intermediate and the certificates')
    .option('--lock-timeout <seconds>', 'how long to wait for another certified process', '60')
    .addHelpText('after', EXAMPLES)
    .showSuggestionAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .action(async (subject: string[], options: RootOptions) => {
      if (argv.length === 0) {
        program.outputHelp();
        return;
      }
      if (options.ca) {
        const { runInitCa } = await import('./commands/init-ca.js');
        await runInitCa(subject, options, argv);
        return;
      }
      const { runIssue } = await import('./commands/issue.js');
      await runIssue(subject, options, argv);
    });
  return program;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  try {
    await buildProgram(argv).parseAsync(argv, { from: 'user' });
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
    const message = error.message.replace(/^error: /, '');
    process.stderr.write(`certified: ${message}. Run "certified --help" for usage.\n`);
    return 2;
  }
  const { CertifiedError } = await import('../ca/errors.js');
  if (error instanceof CertifiedError) {
    process.stderr.write(`certified: ${error.message}.${error.hint ? ` ${error.hint}` : ''}\n`);
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

function isPromptAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError');
}

await main();
