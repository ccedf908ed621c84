import type { CompletedCommand, CompletionSurface, Values } from './surface.js';
import { caseLabel, modeFlags, valueOptions } from './shell-words.js';

/** A name as a regular expression that matches only it. */
const regexEscaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A word in single quotes, for fish. */
const quoted = (text: string): string => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/**
 * The fish script: one function prints the candidates ("word<TAB>description") for the command line,
 * registered with `complete -c certified -f -a`. Fish does not split at "=": `--opt=VALUE` is
 * completed as the whole word.
 */
export function fishScript(surface: CompletionSurface): string {
  const { layout } = surface;
  const all = [surface.root, ...surface.commands];
  const commandPairs = surface.commands.flatMap((command) => [command.name, quoted(command.description.split('\n')[0] ?? '')]);
  const values = (target: Values, prefix: string, cur: string): string => calls(target, prefix, cur, commandPairs);
  const modeTests = surface.modes
    .map(({ flags, command }) => `    else if ${flags.map((flag) => `contains -- ${flag} $modes`).join('; and ')}\n        set command ${command}`)
    .join('\n');
  return `# fish completion for certified: commands, options, their values and the CA's certificate names.
# Written by "certified completion fish". Install it for every new shell with
#   certified completion fish > ~/.config/fish/completions/certified.fish
# or load it in this one with
#   certified completion fish | source

# The CA directory as certified finds it: --db DIR on the command line, else $CERTIFIED_DB, else the
# nearest directory upward holding ${layout.configFile}, else ./${layout.defaultDirectory}.
function __certified_ca_dir
    set -l words (commandline -opc)
    set -l dir ''
    for i in (seq 2 (count $words))
        switch $words[$i]
            case --db
                set -q words[(math $i + 1)]; and set dir $words[(math $i + 1)]
            case '--db=*'
                set dir (string replace -- --db= '' $words[$i])
        end
    end
    test -z "$dir"; and set -q CERTIFIED_DB; and set dir $CERTIFIED_DB
    if test -z "$dir"
        set -l up $PWD
        while true
            if test -e "$up/${layout.configFile}"
                set dir "$up"
                test -n "$dir"; or set dir /
                break
            end
            if test -z "$up"
                set dir ${layout.defaultDirectory}
                break
            end
            set up (string replace -r -- '/[^/]*$' '' $up)
        end
    end
    string replace -r -- '^~(?=/|$)' $HOME $dir
end

# The words $argv[3..] that start with $argv[2], each after $argv[1].
function __certified_words
    set -l prefix $argv[1]
    set -l words $argv[3..-1]
    # One string command for all of them (a CA holds thousands of names; fish runs loops slowly).
    # Each is given words: with none, string would read its standard input.
    set -q words[1]; or return 0
    test -n "$argv[2]"; and set words (string match -r -- '^'(string escape --style=regex -- $argv[2])'.*' $words)
    set -q words[1]; and printf '%s\\n' $prefix$words
end

# The certificate names: ${layout.certsDir}/NAME.crt, without chain files and the CA's own.
function __certified_certificates
    # set, unlike a command, takes a wildcard that matches nothing.
    set -l names (__certified_ca_dir)/${layout.certsDir}/*.crt
    set -q names[1]; or return 0
    set names (string replace -r -- '^.*/(.*)\\.crt$' '$1' $names)
    set names (string match -v -r -- '\\.chain$|^(?:${layout.reserved.map(regexEscaped).join('|')})$' $names)
    __certified_words "$argv[1]" "$argv[2]" $names
end

# The CAs that sign: ${layout.crlDir}/NAME.crl, without the last CRLs of replaced CAs (NAME-SERIAL.crl);
# with $argv[3] = leaf, without the roots too (they sign only CAs).
function __certified_issuers
    set -l names (__certified_ca_dir)/${layout.crlDir}/*.crl
    set -q names[1]; or return 0
    set names (string replace -r -- '^.*/(.*)\\.crl$' '$1' $names)
    set names (string match -v -r -- '-[0-9a-f]{16,}$' $names)
    test "$argv[3]" = leaf; and set names (string match -v -r -- '^(${layout.roots.map((name) => name.replace(/\./g, '\\\\.')).join('|')})$' $names)
    __certified_words "$argv[1]" "$argv[2]" $names
end

# The value of option $argv[2] of command $argv[1] ('' before a command), from $argv[4], each after
# $argv[3]; fails when the option takes none.
function __certified_value
    switch $argv[1]
${all.map((command) => valueCase(command, values)).join('\n')}
        case '*'
            return 1
    end
    return 0
end

# The options of command $argv[1] ('' before a command).
function __certified_options
    switch $argv[1]
${all
  .map((command) => {
    const pairs = command.options.flatMap((option) => option.flags.flatMap((name) => [name, quoted(option.description)]));
    return `        case ${caseLabel(command.name)}\n            printf '%s\\t%s\\n' ${pairs.join(' ')}`;
  })
  .join('\n')}
    end
end

# A word of command $argv[1] ('' before a command) that is not an option, from $argv[2].
function __certified_operand
    switch $argv[1]
${all
  .filter((command) => command.operands)
  .map((command) => `        case ${caseLabel(command.name)}\n            ${values(command.operands as Values, quoted(command.operands?.prefix ?? ''), '"$argv[2]"')}`)
  .join('\n')}
    end
end

function __certified_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l command ''
    set -l modes
    set -l subject ''
    # The command: the first word that is not an option or its value, or the one a seed form becomes.
    set -l i 2
    while test $i -le (count $words); and test -z "$command"
        switch $words[$i]
            case ${modeFlags(surface).join(' ')}
                set -a modes $words[$i]
            case ${surface.csr.flag}
                set -a modes ${surface.csr.flag}
                set i (math $i + 1)
            case '${surface.csr.flag}=*'
                set -a modes ${surface.csr.flag}
            case '--*=*'
            case '-*'
                contains -- $words[$i] ${valueOptions(all).join(' ')}; and set i (math $i + 1)
            case '+*' '*=*'
                set subject 1
            case '*'
                set command $words[$i]
        end
        set i (math $i + 1)
    end
    if test -n "$command"
${modeTests}
    else if contains -- ${surface.csr.flag} $modes
        set command ${surface.csr.command}
    else if test -n "$subject"
        set command issue
    end

    if string match -qr -- '^--[^=]+=' $cur
        set -l option (string replace -r -- '=.*' '' $cur)
        __certified_value "$command" $option "$option=" (string replace -r -- '^[^=]*=' '' $cur); and return
    else if test (count $words) -gt 1; and string match -q -- '-*' $words[-1]
        __certified_value "$command" $words[-1] '' "$cur"; and return
    end
    if string match -q -- '-*' $cur
        __certified_options "$command"
    else
        __certified_operand "$command" "$cur"
    end
end

complete -c certified -f -a '(__certified_complete)'
`;
}

/** One command's arm of __certified_value: its options that take a value, those completed alike in one case. */
function valueCase(command: CompletedCommand, values: (target: Values, prefix: string, cur: string) => string): string {
  const byCalls = new Map<string, string[]>();
  for (const option of command.options) {
    if (!option.values) continue;
    const call = values(option.values, '"$argv[3]"', '"$argv[4]"');
    byCalls.set(call, [...(byCalls.get(call) ?? []), ...option.flags]);
  }
  const arms = [...byCalls].map(([call, flags]) => `                case ${flags.join(' ')}\n                    ${call}`);
  return [`        case ${caseLabel(command.name)}`, '            switch $argv[2]', ...arms, "                case '*'", '                    return 1', '            end'].join('\n');
}

/** The commands that print the candidates of `values` from the word `cur`, each after `prefix` (fish expressions). */
function calls(values: Values, prefix: string, cur: string, commandPairs: string[]): string {
  const parts: string[] = [];
  if (values.choices.length) parts.push(`__certified_words ${prefix} ${cur} ${values.choices.join(' ')}`);
  for (const source of values.sources) {
    if (source === 'certificates') parts.push(`__certified_certificates ${prefix} ${cur}`);
    else if (source === 'issuers') parts.push(`__certified_issuers ${prefix} ${cur}`);
    else if (source === 'leaf-issuers') parts.push(`__certified_issuers ${prefix} ${cur} leaf`);
    else if (source === 'files') parts.push(`__fish_complete_path ${cur} | string replace -r -- '^' ${prefix}`);
    else if (source === 'directories') parts.push(`__fish_complete_directories ${cur} | string replace -r -- '^' ${prefix}`);
    else parts.push(`printf '%s\\t%s\\n' ${commandPairs.join(' ')}`);
  }
  return parts.length ? parts.join('; ') : 'true';
}
