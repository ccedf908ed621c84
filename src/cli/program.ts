import { Argument, Command, type CommanderError } from 'commander';
import { commandSpecs } from './command-table.js';
import { useTokenModule } from '../ca/token-module.js';

/** A commander error, with the command whose parser raised it (undefined: the root). */
export type CommandError = CommanderError & { commandName?: string };

const ROOT_HELP = `
The seed's forms still work: each is rewritten to its command before parsing, so it takes
exactly that command's options:
  certified --ca ...                 certified init ...
  certified --ca --issuer X ...      certified init --issuer X ...
  certified [options] CN=.. +names   certified issue [options] CN=.. +names
  certified --revoke ...             certified revoke ...
  certified --ca --revoke ...        certified revoke --ca ...
  certified --self-signed ...        certified self-signed ...
  certified --no-sign ...            certified request ...
  certified --csr FILE ...           certified sign FILE ...

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
  $ certified help issue

The CA lives in ./etc/ssl (--db DIR or CERTIFIED_DB to change); every change is one git commit.
Passwords: the flag, "-" to read one line of stdin (one line per "-", in the order of the flags),
CERTIFIED_ROOT_PASSWORD, CERTIFIED_NEW_ROOT_PASSWORD, CERTIFIED_INTERMEDIATE_PASSWORD, CERTIFIED_CA_PASSWORD, CERTIFIED_PASSWORD,
or a prompt on a TTY.`;

/** Tags a parse error with the command that raised it, for the one-line message in main.ts. */
const failIn =
  (name: string | undefined) =>
  (error: CommanderError): never => {
    throw Object.assign(error, { commandName: name });
  };

/** The one commander program: a root that only dispatches, and one command per verb with its own options. */
export function buildProgram(version: string, argv: string[]): Command {
  const program = new Command('certified')
    .description('run an internal certificate authority out of a git repository')
    .usage('[options] <command> [args]')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .helpCommand('help [command]', 'print the help of a command')
    .addHelpText('after', ROOT_HELP)
    .showSuggestionAfterError(true)
    // Stops commander's "did you mean" for a command's unknown option at that command's own options.
    .enablePositionalOptions()
    .exitOverride(failIn(undefined))
    .configureOutput({ outputError: () => undefined });

  for (const spec of commandSpecs()) {
    const command = program
      .command(spec.name, { hidden: spec.hidden === true })
      .description(spec.summary)
      .addHelpText('after', `\nExamples:\n${spec.examples.map((line) => `  $ ${line}`).join('\n')}`)
      .showSuggestionAfterError(true)
      .allowExcessArguments(spec.excessArguments === true)
      .exitOverride(failIn(spec.name))
      .configureOutput({ outputError: () => undefined });
    for (const [name, description, choices] of spec.arguments ?? []) {
      const argument = new Argument(name, description);
      command.addArgument(choices ? argument.choices(choices) : argument);
    }
    for (const option of spec.options) command.addOption(option);
    command.action(async () => {
      const options = command.opts();
      checkNeeds(command, spec.needs ?? {});
      const tokenModule = (options.pkcs11Module as string | undefined) ?? process.env.CERTIFIED_PKCS11_MODULE;
      if (tokenModule) useTokenModule(tokenModule);
      const run = await spec.load(options);
      // `sign FILE`: the module takes the file as options.csr, like the seed's --csr FILE.
      const [first = '', ...rest] = command.args;
      if (spec.name === 'sign') await run(rest, { ...options, csr: first } as never, argv);
      else await run(command.args, options as never, argv);
    });
  }
  return program;
}

/** Options a command takes only together with another (`init --name` needs --issuer), refused like a conflict. */
function checkNeeds(command: Command, needs: Record<string, string[]>): void {
  for (const [needed, dependents] of Object.entries(needs)) {
    if (command.getOptionValue(needed) !== undefined) continue;
    for (const dependent of dependents) {
      if (command.getOptionValue(dependent) === undefined) continue;
      const flags = (attribute: string) => command.options.find((option) => option.attributeName() === attribute)?.flags ?? attribute;
      command.error(`error: option '${flags(dependent)}' can only be used with option '${flags(needed)}'`, { code: 'commander.missingDependency', exitCode: 2 });
    }
  }
}

/** The long options of every command, by whether they take a value: what the alias rewriting must know. */
export function declaredOptions(program: Command): { valueOptions: Set<string>; flagOptions: Set<string> } {
  const valueOptions = new Set<string>();
  const flagOptions = new Set<string>();
  for (const command of program.commands) {
    for (const option of command.options) {
      if (option.long) (option.required || option.optional ? valueOptions : flagOptions).add(option.long);
    }
  }
  return { valueOptions, flagOptions };
}

/** The command names, `help` included. */
export function commandNames(program: Command): Set<string> {
  return new Set([...program.commands.map((command) => command.name()), 'help']);
}
