import type { CompletedCommand, CompletionSurface, Values } from './surface.js';
import { caDirectoryFallbacks, caseLabel, commandOfWords, modeFlags, valueOptions } from './shell-words.js';

/** A word in single quotes, for zsh. */
const quoted = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;
/** An item of _describe: "name:description", a colon in the name escaped. */
const item = (name: string, description: string): string => quoted(`${name.replaceAll(':', '\\:')}:${description}`);

/**
 * The zsh script: a completion function for compsys, loaded from $fpath as _certified or sourced
 * after compinit. Words are not split at "=": `--opt=VALUE` is completed after compset.
 */
export function zshScript(surface: CompletionSurface): string {
  const { layout } = surface;
  const all = [surface.root, ...surface.commands];
  const commandItems = surface.commands.map((command) => item(command.name, command.description.split('\n')[0] ?? ''));
  const modeTests = surface.modes
    .map(({ flags, command }) => `  elif ${flags.map((flag) => `[[ $modes == *' ${flag} '* ]]`).join(' && ')}; then\n    command=${command}`)
    .join('\n');
  const values = (target: Values, prefix: string): string => calls(target, prefix, commandItems);
  return `#compdef certified
# zsh completion for certified: commands, options, their values and the CA's certificate names.
# Written by "certified completion zsh". Install it for every new shell with
#   certified completion zsh > "\${fpath[1]}/_certified"
# or load it in this one (after compinit) with
#   source <(certified completion zsh)

# The CA directory as certified finds it: --db DIR on the command line, else $CERTIFIED_DB, else the
# nearest directory upward holding ${layout.configFile}, else ./${layout.defaultDirectory}. Sets REPLY.
_certified_ca_dir() {
  local dir='' i up
  for ((i = 2; i < CURRENT; i++)); do
    case \${words[i]} in
      (--db) dir=\${(Q)words[i + 1]} ;;
      (--db=*) dir=\${(Q)words[i]#--db=} ;;
    esac
  done
${caDirectoryFallbacks(layout)}
  REPLY=$dir
}

# Adds the words $2..; with a prefix $1 (a certificate name given as --name=NAME), only those that
# start with what is typed, each after the prefix, replacing the word.
_certified_add() {
  local prefix=$1 word
  local -a matches
  shift
  if [[ -z $prefix ]]; then
    compadd -- "$@"
  else
    for word; do
      [[ $word == "$PREFIX"* ]] && matches+=("$prefix$word")
    done
    compadd -U -- "\${matches[@]}"
  fi
}

# The certificate names: ${layout.certsDir}/NAME.crt, without chain files and the CA's own.
_certified_certificates() {
  local REPLY file name
  local -a names
  _certified_ca_dir
  for file in "$REPLY"/${layout.certsDir}/*.crt(N); do
    name=\${file:t:r}
    case $name in
      (*.chain|${layout.reserved.map(quoted).join('|')}) continue ;;
    esac
    names+=("$name")
  done
  _certified_add "$1" "\${names[@]}"
}

# The CAs that sign: ${layout.crlDir}/NAME.crl, without the last CRLs of replaced CAs (NAME-SERIAL.crl);
# with $2 = leaf, without the roots too (they sign only CAs).
_certified_issuers() {
  local REPLY file name
  local -a names
  _certified_ca_dir
  for file in "$REPLY"/${layout.crlDir}/*.crl(N); do
    name=\${file:t:r}
    [[ $name =~ '-[0-9a-f]{16,}$' ]] && continue
    [[ $2 == leaf && ( ${layout.roots.map((name) => `$name == '${name}'`).join(' || ')} ) ]] && continue
    names+=("$name")
  done
  _certified_add "$1" "\${names[@]}"
}

# The value of option $2 of command $1 ('' before a command); fails when $2 takes none.
_certified_value() {
  case $1 in
${all.map((command) => valueCase(command, values)).join('\n')}
    (*) return 1 ;;
  esac
  return 0
}

# The options of command $1 ('' before a command).
_certified_options() {
  local -a flags
  case $1 in
${all.map((command) => `    (${caseLabel(command.name)}) flags=(${command.options.flatMap((option) => option.flags.map((name) => item(name, option.description))).join(' ')}) ;;`).join('\n')}
  esac
  _describe -t options option flags
}

# A word of command $1 ('' before a command) that is not an option.
_certified_operand() {
  case $1 in
${all
  .filter((command) => command.operands)
  .map((command) => `    (${caseLabel(command.name)}) ${values(command.operands as Values, command.operands?.prefix ?? '')} ;;`)
  .join('\n')}
  esac
}

_certified() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT - 1]} command='' modes=' ' subject='' i word
  # The command: the first word that is not an option or its value, or the one a seed form becomes.
  for ((i = 2; i < CURRENT && \${#command} == 0; i++)); do
    word=\${words[i]}
    case $word in
      (${modeFlags(surface).join('|')}) modes+="$word " ;;
      (${surface.csr.flag}) modes+="$word "; ((i++)) ;;
      (${surface.csr.flag}=*) modes+="${surface.csr.flag} " ;;
      (--*=*) ;;
      (-*) [[ ' ${valueOptions(all).join(' ')} ' == *" $word "* ]] && ((i++)) ;;
      (+*|*=*) subject=1 ;;
      (*) command=$word ;;
    esac
  done
${commandOfWords(surface, modeTests)}

  if [[ $cur == --*=* ]]; then
    local option=\${cur%%=*}
    compset -P '*='
    _certified_value "$command" "$option" && return
  elif [[ $prev == -* ]]; then
    _certified_value "$command" "$prev" && return
  fi
  if [[ $cur == -* ]]; then
    _certified_options "$command"
  else
    _certified_operand "$command"
  fi
}

if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _certified "$@"
elif (( \${+functions[compdef]} )); then
  compdef _certified certified
else
  print -u2 'certified: zsh completion needs compinit: run "autoload -U compinit && compinit" first.'
fi
`;
}

/** One command's arm of _certified_value: its options that take a value, those completed alike in one pattern. */
function valueCase(command: CompletedCommand, values: (target: Values, prefix: string) => string): string {
  const byCalls = new Map<string, string[]>();
  for (const option of command.options) {
    if (!option.values) continue;
    const call = values(option.values, '');
    byCalls.set(call, [...(byCalls.get(call) ?? []), ...option.flags]);
  }
  const arms = [...byCalls].map(([call, flags]) => `        (${flags.join('|')}) ${call} ;;`);
  return [`    (${caseLabel(command.name)})`, '      case $2 in', ...arms, '        (*) return 1 ;;', '      esac', '      ;;'].join('\n');
}

/** The calls that add the candidates of `values`, each after `prefix`. */
function calls(values: Values, prefix: string, commandItems: string[]): string {
  const parts: string[] = [];
  if (values.choices.length) parts.push(`_certified_add ${quoted(prefix)} ${values.choices.map(quoted).join(' ')}`);
  for (const source of values.sources) {
    if (source === 'certificates') parts.push(`_certified_certificates ${quoted(prefix)}`);
    else if (source === 'issuers') parts.push(`_certified_issuers ${quoted(prefix)}`);
    else if (source === 'leaf-issuers') parts.push(`_certified_issuers ${quoted(prefix)} leaf`);
    else if (source === 'files') parts.push('_files');
    else if (source === 'directories') parts.push('_files -/');
    else parts.push(`local -a names=(${commandItems.join(' ')}); _describe -t commands command names`);
  }
  return parts.length ? parts.join('; ') : ':';
}
