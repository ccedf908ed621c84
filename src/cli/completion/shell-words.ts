import type { CompletedCommand, CompletionSurface } from './surface.js';

/** What the scripts share: names as case labels and lists of flags. Names and flags are plain words ([a-z0-9-]). */

/** A `case` label: the command's name, or '' for the words before any command. */
export const caseLabel = (name: string): string => (name === '' ? "''" : name);

/** Every flag of a command, short and long. */
export const allFlags = (command: CompletedCommand): string[] => command.options.flatMap((option) => option.flags);

/** The flags that take a value, in any command: before the command is known, their value is not a word to read. */
export function valueOptions(commands: readonly CompletedCommand[]): string[] {
  return [...new Set(commands.flatMap((command) => command.options.filter((option) => option.values).flatMap((option) => option.flags)))];
}

/** The seed's mode flags that take no value (`--ca`, `--revoke`, ...), each once. */
export const modeFlags = (surface: CompletionSurface): string[] => [...new Set(surface.modes.flatMap((mode) => mode.flags))];

/**
 * bash and zsh alike: when `dir` is still empty, CERTIFIED_DB, else the nearest directory upward
 * holding certified.json, else the default directory; then a leading ~ expanded.
 */
export function caDirectoryFallbacks(layout: CompletionSurface['layout']): string {
  return `  [[ -z $dir ]] && dir=$CERTIFIED_DB
  if [[ -z $dir ]]; then
    up=$PWD
    while :; do
      if [[ -e $up/${layout.configFile} ]]; then dir=\${up:-/}; break; fi
      if [[ -z $up ]]; then dir=${layout.defaultDirectory}; break; fi
      up=\${up%/*}
    done
  fi
  [[ $dir == '~' || $dir == '~/'* ]] && dir=$HOME\${dir#'~'}`;
}

/**
 * bash and zsh alike: the command the words name, when none was typed: the seed's mode flags
 * (`modeTests`, one `elif` per form), `--csr FILE`, or a subject word (`CN=..`, `+name`) for issue.
 */
export function commandOfWords(surface: CompletionSurface, modeTests: string): string {
  return `  if [[ -n $command ]]; then
    :
${modeTests}
  elif [[ $modes == *' ${surface.csr.flag} '* ]]; then
    command=${surface.csr.command}
  elif [[ -n $subject ]]; then
    command=issue
  fi`;
}
