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
