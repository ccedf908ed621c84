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
  $ certified --revoke --reason keyCompromise CN=host.example.com
  $ certified --ca --issuer ca CN="Team CA" --password -
  $ certified --self-signed CN=dev.local
  $ certified --no-sign CN=vendor.example.com +www.vendor.example.com
  $ certified --csr request.csr --server --days 90

The CA lives in ./etc/ssl (--db DIR or CERTIFIED_DB to change); every change is one git commit.
Passwords: the flag, "-" to read one line of stdin, CERTIFIED_ROOT_PASSWORD,
CERTIFIED_INTERMEDIATE_PASSWORD, CERTIFIED_CA_PASSWORD, CERTIFIED_PASSWORD, or a prompt on a TTY.`;

/** Examples shown under each subcommand's --help. */
const SUBCOMMAND_EXAMPLES: Record<string, string[]> = {
  crl: ['certified crl', 'certified crl --issuer ca --crl-days 14'],
  ls: ['certified ls', 'certified ls --json', 'certified ls --expiring 30'],
  yaml: ['certified yaml > hieradata/certificates.yaml'],
  renew: ['certified renew CN=host.example.com', 'certified renew --name web --reuse-key'],
  show: ['certified show host.example.com', 'certified show crl/ca.crl --json'],
  log: ['certified log', 'certified log --json'],
  check: ['certified check', 'certified check --json'],
  'git-setup': ['certified git-setup'],
  export: ['certified export alice --p12 --p12-password - --out alice.p12'],
  trust: ['certified trust --nss', 'certified trust --system --uninstall'],
  serve: ['certified serve --listen 127.0.0.1:8080'],
  plan: ['certified plan', 'certified plan --json'],
  apply: ['certified apply --yes', 'certified apply --yes --allow-revoke --commit-each'],
};

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Loads a command module only when its command runs, so --version and help stay fast. */
type Loader = () => Promise<(args: string[], options: never, argv: string[]) => Promise<void>>;

function buildProgram(argv: string[]): Command {
  const program = new Command('certified')
    .description('run an internal certificate authority out of a git repository')
    .usage('[options] [C=..] [ST=..] [L=..] [O=..] [OU=..] CN=.. [+name ...]')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .argument('[subject...]', 'subject attributes (C= ST= L= O= OU= CN=) and +names: DNS, IPv4/IPv6, e-mail, +URI:uri')
    .option('--ca', 'make the CA (a root and an intermediate), or with --issuer a sub-CA')
    .option('--revoke', 'revoke the named certificate (with --ca: the intermediate) and republish the CRL')
    .option('--reason <reason>', 'revocation reason: unspecified, keyCompromise, superseded, cessationOfOperation, affiliationChanged')
    .option('--issuer <ca>', 'the issuing CA, by CN or file name (default: the intermediate, "ca")')
    .option('--self-signed', 'make a self-signed certificate (no CA needed)')
    .option('--no-sign', 'stop at the CSR (csr/NAME.csr), for a vendor to sign')
    .option('--csr <file>', 'sign a CSR made elsewhere')
    .option('--db <dir>', 'the CA directory (default: etc/ssl, or CERTIFIED_DB)')
    .option('--client', 'a client certificate (clientAuth only)')
    .option('--server', 'a server certificate (serverAuth only)')
    .addOption(new Option('--key-type <type>', 'key algorithm').choices(['ecdsa', 'rsa']))
    .option('--bits <n>', 'RSA key size (implies --key-type rsa; at least 2048)')
    .option('--days <n>', 'validity in days (certificates 365, CAs 3650)')
    .option('--crl-days <n>', 'days until the next CRL update (default 7)')
    .option('--name <name>', 'file name for the certificate (default: the CN, lower-case, spaces as dashes)')
    .option('--password <password>', 'encrypt the new key (then it is committed)')
    .option('--ca-password <password>', 'password of the issuing CA key')
    .option('--root-password <password>', 'password of the root key')
    .option('--intermediate-password <password>', 'encrypt the intermediate key (then it is committed)')
    .option('--crl-url <url>', 'CRL URL put in every certificate the intermediate issues')
    .option('--root-crl-url <url>', "CRL URL put in the intermediate (the root's CRL)")
    .option('--ocsp-url <url>', 'OCSP URL put in the AIA of the intermediate and the certificates')
    .option('--permit-dns <domain>', 'with --ca: allow only names under this domain (repeatable)', collect)
    .option('--permit-ip <cidr>', 'with --ca: allow only addresses in this range (repeatable)', collect)
    .option('--permit-email <domain>', 'with --ca: allow only e-mail addresses at this domain or mailbox (repeatable)', collect)
    .option('--dry-run', 'show what would be made, validate everything, write nothing')
    .option('--lock-timeout <seconds>', 'how long to wait for another certified process (default 60)')
    .addHelpText('after', EXAMPLES)
    .showSuggestionAfterError(false)
    // Options after a command name are that command's (`ls --issuer X --db D`), not the root's.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .action(async (subject: string[], options: RootOptions) => {
      if (argv.length === 0) {
        program.outputHelp();
        return;
      }
      const run = await rootCommand(options)();
      await run(subject, options as never, argv);
    });

  const sub = (name: string, description: string, load: Loader) =>
    program
      .command(name)
      .description(description)
      .addHelpText('after', `\nExamples:\n${(SUBCOMMAND_EXAMPLES[name] ?? []).map((line) => `  $ ${line}`).join('\n')}`)
      .option('--db <dir>', 'the CA directory (default: etc/ssl, or CERTIFIED_DB)')
      .option('--lock-timeout <seconds>', 'how long to wait for another certified process (default 60)')
      .exitOverride()
      .configureOutput({ outputError: () => undefined })
      .action(async (...params: unknown[]) => {
        const command = params[params.length - 1] as Command;
        const run = await load();
        // `certified --db D ls` still works; the command's own options win.
        const options: Record<string, unknown> = { ...program.opts(), ...command.opts() };
        await run(command.args, options as never, argv);
      });

  sub('crl', 're-sign the CRLs before they expire (for cron or CI)', async () => (await import('./commands/crl.js')).runCrl)
    .option('--issuer <ca>', 'only this CA')
    .option('--crl-days <n>', 'days until the next update (default 7)')
    .option('--ca-password <password>', 'password of the issuing CA key')
    .option('--root-password <password>', 'password of the root key (for the root CRL)')
    .option('--dry-run', 'show the CRLs that would be made, write nothing');
  sub('ls', 'list the certificates', async () => (await import('./commands/ls.js')).runLs)
    .option('--json', 'an array of objects, for scripts')
    .option('--expiring <days>', 'only those expiring within DAYS; exit 1 if any')
    .option('--issuer <ca>', 'only those issued by this CA');
  sub('yaml', 'print certificates and keys as Hiera-compatible YAML', async () => (await import('./commands/yaml.js')).runYaml)
    .option('--password <password>', 'password to decrypt encrypted keys');
  sub('renew', 'issue a new certificate with the same names, superseding the old one', async () => (await import('./commands/renew.js')).runRenew)
    .argument('[subject...]', 'CN=.. (or --name)')
    .option('--name <name>', 'the certificate to renew')
    .option('--reuse-key', 'keep the same key')
    .option('--days <n>', 'validity in days')
    .option('--password <password>', 'password of the certificate key')
    .option('--ca-password <password>', 'password of the issuing CA key')
    .option('--dry-run', 'show what would be made, write nothing');
  sub('show', 'decode a certificate, CSR or CRL', async () => (await import('./commands/show.js')).runShow)
    .argument('<file-or-name>', 'a file, or the name of a certificate in the CA')
    .option('--json', 'as JSON');
  sub('log', "the CA's history from git", async () => (await import('./commands/log.js')).runLog)
    .option('--json', 'as JSON');
  sub('check', 'check the CA for consistency and policy (for CI)', async () => (await import('./commands/check.js')).runCheck)
    .option('--json', 'findings as JSON');
  sub('git-setup', 'make git diff and log show decoded certificates in this clone', async () => (await import('./commands/git-setup.js')).runGitSetup);
  sub('export', 'export a certificate with its key and chain', async () => (await import('./commands/export.js')).runExport)
    .argument('<name>', 'the certificate')
    .option('--p12', 'as PKCS#12')
    .option('--p12-password <password>', 'password of the .p12 file')
    .option('--password <password>', 'password of the certificate key, if encrypted')
    .option('--out <file>', 'where to write it (default: NAME.p12)');
  sub('trust', 'install the root certificate into trust stores', async () => (await import('./commands/trust.js')).runTrust)
    .option('--system', 'the system store (Debian/Ubuntu, RHEL/Fedora)')
    .option('--nss', 'the NSS databases of Chrome and Firefox')
    .option('--java', "Java's cacerts")
    .option('--java-keystore <file>', "a Java keystore instead of the JDK's cacerts (password: CERTIFIED_JAVA_STOREPASS, default changeit)")
    .option('--uninstall', 'remove it again')
    .option('--root <dir>', 'treat DIR as the file system root (for tests and images)');
  sub('serve', 'serve CRLs and answer OCSP requests', async () => (await import('./commands/serve.js')).runServe)
    .option('--listen <address>', 'host:port to listen on', '127.0.0.1:8080')
    .option('--ca-password <password>', 'password of the issuing CA keys');
  sub('plan', 'show what "apply" would do to match certificates.yaml', async () => (await import('./commands/plan.js')).runPlan)
    .option('--json', 'as JSON');
  sub('apply', 'issue, renew and revoke to match certificates.yaml', async () => (await import('./commands/apply.js')).runApply)
    .option('--yes', 'do not ask for confirmation')
    .option('--commit-each', 'one commit per action')
    .option('--allow-revoke', 'allow revoking certificates removed from the manifest')
    .option('--ca-password <password>', 'password of the issuing CA key');
  return program;
}


/** Which module handles `certified [options] [subject...]`. */
function rootCommand(options: RootOptions): Loader {
  if (options.ca && options.revoke) return async () => (await import('./commands/revoke-intermediate.js')).runRevokeIntermediate;
  if (options.ca) return async () => (await import('./commands/init-ca.js')).runInitCa;
  if (options.revoke) return async () => (await import('./commands/revoke.js')).runRevoke;
  if (options.selfSigned) return async () => (await import('./commands/self-signed.js')).runSelfSigned;
  if (options.sign === false) return async () => (await import('./commands/request.js')).runRequest;
  if (options.csr !== undefined) return async () => (await import('./commands/sign-csr.js')).runSignCsr;
  return async () => (await import('./commands/issue.js')).runIssue;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // `certified ls | head` closes stdout early: that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
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
    // Commander quotes the user's text: keep it on one line (no control characters) and short.
    const message = error.message
      .replace(/^error: /, '')
      .replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, '?')
      .replace(/'([^']{60})[^']+'/g, "'$1...'")
      .replace(/\.$/, '');
    process.stderr.write(`certified: ${message}. Run "certified --help" for usage.\n`);
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

function isPromptAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError');
}

await main();
