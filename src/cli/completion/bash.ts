import type { CompletedCommand, CompletionSurface, Values } from './surface.js';
import { allFlags, caDirectoryFallbacks, caseLabel, commandOfWords, modeFlags, valueOptions } from './shell-words.js';

/**
 * The bash script: `complete -F _certified certified`. Bash splits `--db=DIR` and `CN=x` at "=" into
 * three words (COMP_WORDBREAKS), so the script reads "X" "=" "Y" as one word, and a value completed
 * right after "=" is given with the "=" it replaces. It needs bash 4 (compopt).
 */
export function bashScript(surface: CompletionSurface): string {
  const { layout } = surface;
  const all = [surface.root, ...surface.commands];
  const commandNames = surface.commands.map((command) => command.name);
  const modeTests = surface.modes
    .map(({ flags, command }) => `  elif ${flags.map((flag) => `[[ $modes == *' ${flag} '* ]]`).join(' && ')}; then\n    command=${command}`)
    .join('\n');
  return `# bash completion for certified: commands, options, their values and the CA's certificate names.
# Written by "certified completion bash". Load it in this shell with
#   source <(certified completion bash)
# or for every new one with
#   certified completion bash > ~/.local/share/bash-completion/completions/certified

# The CA directory as certified finds it: --db DIR on the command line, else $CERTIFIED_DB, else the
# nearest directory upward holding ${layout.configFile}, else ./${layout.defaultDirectory}.
_certified_ca_dir() {
  local dir='' i word up
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    case $word in
      --db) if [[ \${COMP_WORDS[i + 1]} == = ]]; then dir=\${COMP_WORDS[i + 2]}; else dir=\${COMP_WORDS[i + 1]}; fi ;;
      --db=*) dir=\${word#--db=} ;;
    esac
  done
  # As typed: "DIR", 'DIR' or DIR with backslashes.
  if [[ $dir == \\"*\\" || $dir == \\'*\\' ]]; then dir=\${dir:1:-1}; else dir=\${dir//\\\\/}; fi
${caDirectoryFallbacks(layout)}
  printf '%s' "$dir"
}

# Each candidate that starts with $1, after $2; then the candidates.
_certified_words() {
  local cur=$1 prefix=$2 word
  shift 2
  for word; do
    [[ $word == "$cur"* ]] && COMPREPLY+=("$prefix$word")
  done
}

# The certificate names: ${layout.certsDir}/NAME.crt, without chain files and the CA's own.
_certified_certificates() {
  local dir file name
  dir=$(_certified_ca_dir)
  # Only the names that start with the word (quoted: taken literally), not every certificate of the CA.
  for file in "$dir"/${layout.certsDir}/"$1"*.crt; do
    name=\${file##*/}
    name=\${name%.crt}
    case $name in
      *.chain | ${layout.reserved.map((name) => `'${name}'`).join(' | ')}) continue ;;
    esac
    # Only what certified could have named (a file of another origin could hold shell syntax).
    [[ $name =~ ^[[:alnum:]][[:alnum:]._@-]*$ ]] || continue
    [[ -e $file && $name == "$1"* ]] && COMPREPLY+=("$2$name")
  done
}

# The CAs that sign: ${layout.crlDir}/NAME.crl, without the last CRLs of replaced CAs (NAME-SERIAL.crl);
# with $3 = leaf, without the roots too (they sign only CAs).
_certified_issuers() {
  local dir file name
  dir=$(_certified_ca_dir)
  for file in "$dir"/${layout.crlDir}/"$1"*.crl; do
    name=\${file##*/}
    name=\${name%.crl}
    [[ $name =~ -[0-9a-f]{16,}$ || ! $name =~ ^[[:alnum:]][[:alnum:]._@-]*$ ]] && continue
    if [[ $3 == leaf ]]; then
      case $name in
        ${layout.roots.map((name) => `'${name}'`).join(' | ')}) continue ;;
      esac
    fi
    [[ -e $file && $name == "$1"* ]] && COMPREPLY+=("$2$name")
  done
}

# Files (-f) or directories (-d) starting with $1, after $2.
_certified_files() {
  local file
  [[ -z $2 ]] && compopt -o filenames 2>/dev/null
  while IFS= read -r file; do
    # After a prefix (--csr=) bash quotes nothing itself: a file name must not become shell syntax.
    [[ -n $2 ]] && printf -v file '%q' "$file"
    COMPREPLY+=("$2$file")
  done < <(compgen "$3" -- "$1")
}

# The value of option $2 of command $1 ('' before a command), from $3, each after $4; fails when $2 takes none.
_certified_value() {
  case $1 in
${all.map((command) => valueCase(command, commandNames)).join('\n')}
    *) return 1 ;;
  esac
  return 0
}

# The options of command $1 ('' before a command) starting with $2.
_certified_options() {
  case $1 in
${all.map((command) => `    ${caseLabel(command.name)}) _certified_words "$2" '' ${allFlags(command).join(' ')} ;;`).join('\n')}
  esac
}

# A word of command $1 ('' before a command) that is not an option, from $2.
_certified_operand() {
  case $1 in
${all
  .filter((command) => command.operands)
  .map((command) => `    ${caseLabel(command.name)}) ${calls(command.operands as Values, '"$2"', `'${command.operands?.prefix ?? ''}'`, commandNames)} ;;`)
  .join('\n')}
  esac
}

_certified() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD - 1]}
  local command='' modes=' ' subject='' i word
  COMPREPLY=()
  # The command: the first word that is not an option or its value, or the one a seed form becomes.
  for ((i = 1; i < COMP_CWORD && ${'${#command}'} == 0; i++)); do
    word=\${COMP_WORDS[i]}
    if ((i + 1 < COMP_CWORD)) && [[ \${COMP_WORDS[i + 1]} == = ]]; then
      [[ $word == -* ]] || subject=1
      ((i += 2))
      continue
    fi
    case $word in
      ${modeFlags(surface).join(' | ')}) modes+="$word " ;;
      ${surface.csr.flag}) modes+="$word "; ((i++)) ;;
      ${surface.csr.flag}=*) modes+="${surface.csr.flag} " ;;
      --*=*) ;;
      -*) [[ ' ${valueOptions(all).join(' ')} ' == *" $word "* ]] && ((i++)) ;;
      +* | *=*) subject=1 ;;
      *) command=$word ;;
    esac
  done
${commandOfWords(surface, modeTests)}

  # An option's value: "--opt VALUE", "--opt=VALUE" (split at "=" by bash, or not).
  if [[ $cur == = && $prev == -* ]]; then
    _certified_value "$command" "$prev" '' = && return
  elif [[ $prev == = ]] && ((COMP_CWORD > 2)) && [[ \${COMP_WORDS[COMP_CWORD - 2]} == -* ]]; then
    _certified_value "$command" "\${COMP_WORDS[COMP_CWORD - 2]}" "$cur" '' && return
  elif [[ $cur == --*=* ]]; then
    _certified_value "$command" "\${cur%%=*}" "\${cur#*=}" "\${cur%%=*}=" && return
  elif [[ $prev == -* ]]; then
    _certified_value "$command" "$prev" "$cur" '' && return
  fi
  if [[ $cur == -* ]]; then
    _certified_options "$command" "$cur"
  else
    _certified_operand "$command" "$cur"
  fi
}

complete -F _certified certified
`;
}

/** One command's arm of _certified_value: its options that take a value, those completed alike in one pattern. */
function valueCase(command: CompletedCommand, commandNames: string[]): string {
  const byCalls = new Map<string, string[]>();
  for (const option of command.options) {
    if (!option.values) continue;
    const call = calls(option.values, '"$3"', '"$4"', commandNames);
    byCalls.set(call, [...(byCalls.get(call) ?? []), ...option.flags]);
  }
  const arms = [...byCalls].map(([call, flags]) => `        ${flags.join(' | ')}) ${call} ;;`);
  return [`    ${caseLabel(command.name)})`, '      case $2 in', ...arms, '        *) return 1 ;;', '      esac', '      ;;'].join('\n');
}

/** The calls that add the candidates of `values` for the word `cur`, each after `prefix` (shell expressions). */
function calls(values: Values, cur: string, prefix: string, commandNames: string[]): string {
  const parts: string[] = [];
  if (values.choices.length) parts.push(`_certified_words ${cur} ${prefix} ${values.choices.join(' ')}`);
  for (const source of values.sources) {
    if (source === 'certificates') parts.push(`_certified_certificates ${cur} ${prefix}`);
    else if (source === 'issuers') parts.push(`_certified_issuers ${cur} ${prefix}`);
    else if (source === 'leaf-issuers') parts.push(`_certified_issuers ${cur} ${prefix} leaf`);
    else if (source === 'files') parts.push(`_certified_files ${cur} ${prefix} -f`);
    else if (source === 'directories') parts.push(`_certified_files ${cur} ${prefix} -d`);
    else parts.push(`_certified_words ${cur} ${prefix} ${commandNames.join(' ')}`);
  }
  return parts.length ? parts.join('; ') : ':';
}
