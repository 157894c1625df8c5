/**
 * `spoon completion bash|zsh|fish`: shell completion scripts generated from the
 * command tree itself, so a new command or flag is completed without editing them.
 * They complete commands, flags, file arguments, and env names (from
 * `spoon list --quiet`) where a command takes NAME, including `spoon NAME` itself.
 */
import type { Command } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export interface OptionSpec {
  /** e.g. ['-p', '--publish'] */
  flags: string[];
  value: 'none' | 'file' | 'dir' | 'other';
  description: string;
}

export interface CommandSpec {
  /** The name and its aliases. */
  names: string[];
  description: string;
  options: OptionSpec[];
  /** Its first argument is an env NAME. */
  takesName: boolean;
  /** Its first argument is a FILE (bash and zsh offer files wherever nothing else fits; fish needs telling). */
  takesFile: boolean;
  /** Subcommands (`config import`, `snapshot rm`), offered beside the NAME. */
  subcommands: string[];
}

export interface CompletionSpec {
  globals: OptionSpec[];
  commands: CommandSpec[];
  /** The command a bare `spoon NAME` runs. */
  defaultCommand: string;
}

export function completionSpec(program: Command): CompletionSpec {
  const help = program.createHelp();
  const options = (cmd: Command): OptionSpec[] =>
    help.visibleOptions(cmd).map((o) => ({
      flags: [o.short, o.long].filter((f): f is string => Boolean(f)),
      value: !o.required && !o.optional ? 'none' : /<(file|FILE)>/.test(o.flags) ? 'file' : /<dir>/.test(o.flags) ? 'dir' : 'other',
      description: o.description,
    }));
  const commands = help
    .visibleCommands(program)
    .filter((c) => c.name() !== 'help')
    .map((c) => ({
      names: [c.name(), ...c.aliases()],
      description: c.description(),
      options: options(c),
      takesName: c.registeredArguments[0]?.name() === 'NAME',
      takesFile: c.registeredArguments[0]?.name() === 'FILE',
      subcommands: help.visibleCommands(c).filter((s) => s.name() !== 'help').map((s) => s.name()),
    }));
  const completion = commands.find((c) => c.names[0] === 'completion');
  if (completion) completion.takesName = false;
  return { globals: options(program), commands, defaultCommand: 'up' };
}

export function completionScript(shell: Shell, spec: CompletionSpec): string {
  return { bash: bashScript, zsh: zshScript, fish: fishScript }[shell](spec);
}

const NAMES_COMMAND = 'spoon list --quiet 2>/dev/null';

/** Single-quoted for sh, bash, zsh and fish alike (fish also reads \' inside quotes, which this avoids). */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'"'"'`)}'`;
}

function valueFlags(spec: CompletionSpec, kind?: OptionSpec['value']): string[] {
  const all = [...spec.globals, ...spec.commands.flatMap((c) => c.options)];
  return [...new Set(all.filter((o) => (kind ? o.value === kind : o.value !== 'none')).flatMap((o) => o.flags))];
}

function flagsOf(options: OptionSpec[]): string {
  return options.flatMap((o) => o.flags).join(' ');
}

function commandFor(spec: CompletionSpec, name: string): CommandSpec | undefined {
  return spec.commands.find((c) => c.names.includes(name));
}

function bashScript(spec: CompletionSpec): string {
  const pattern = (flags: string[]) => flags.join('|') || '--none--';
  const up = commandFor(spec, spec.defaultCommand);
  const cases = spec.commands
    .map((c) => `    ${c.names.join('|')}) opts=${quote(flagsOf(c.options))}; takes_name=${c.takesName ? 1 : 0}; subs=${quote(c.subcommands.join(' '))} ;;`)
    .join('\n');
  return `# bash completion for spoon. Enable it with:  source <(spoon completion bash)
_spoon() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local cmd= w i npos=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    case $w in
      ${pattern(valueFlags(spec))}) ((i++)) ;;
      -*) ;;
      *) if [[ -z $cmd ]]; then cmd=$w; else ((npos++)); fi ;;
    esac
  done
  case $prev in
    ${pattern(valueFlags(spec, 'file'))}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    ${pattern(valueFlags(spec, 'dir'))}) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    ${pattern(valueFlags(spec, 'other'))}) COMPREPLY=(); return ;;
  esac
  local opts takes_name=0 subs=
  case $cmd in
    '') opts=${quote(flagsOf(spec.globals))} ;;
${cases}
    *) opts=${quote(flagsOf(up?.options ?? []))} ;; # spoon NAME
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W ${quote(spec.commands.flatMap((c) => c.names).join(' '))}" $(${NAMES_COMMAND})" -- "$cur"))
  elif [[ $cmd == completion && $npos -eq 0 ]]; then
    COMPREPLY=($(compgen -W ${quote(SHELLS.join(' '))} -- "$cur"))
  elif [[ $takes_name -eq 1 && $npos -eq 0 ]]; then
    COMPREPLY=($(compgen -W "$subs $(${NAMES_COMMAND})" -- "$cur"))
  fi
}
complete -o default -F _spoon spoon
`;
}

function zshScript(spec: CompletionSpec): string {
  const pattern = (flags: string[]) => `(${flags.join('|') || '--none--'})`;
  const described = (entries: [string, string][]) => entries.map(([n, d]) => quote(`${n.replace(/:/g, '\\:')}:${d}`)).join(' ');
  const optionEntries = (options: OptionSpec[]) => described(options.flatMap((o) => o.flags.map((f): [string, string] => [f, o.description])));
  const up = commandFor(spec, spec.defaultCommand);
  const cases = spec.commands
    .map((c) => `    (${c.names.join('|')}) opts=(${optionEntries(c.options)}); takes_name=${c.takesName ? 1 : 0}; subs=(${c.subcommands.join(' ')}) ;;`)
    .join('\n');
  return `#compdef spoon
# zsh completion for spoon. Enable it with:  source <(spoon completion zsh)  (after compinit)
_spoon() {
  local cmd= w
  local -i i npos=0 takes_name=0
  local -a opts subs cmds
  for ((i = 2; i < CURRENT; i++)); do
    w=\${words[i]}
    case $w in
      ${pattern(valueFlags(spec))}) ((i++)) ;;
      (-*) ;;
      (*) if [[ -z $cmd ]]; then cmd=$w; else ((npos++)); fi ;;
    esac
  done
  case \${words[CURRENT-1]} in
    ${pattern(valueFlags(spec, 'file'))}) _files; return ;;
    ${pattern(valueFlags(spec, 'dir'))}) _files -/; return ;;
    ${pattern(valueFlags(spec, 'other'))}) _message 'a value'; return ;;
  esac
  case $cmd in
    ('') opts=(${optionEntries(spec.globals)}) ;;
${cases}
    (*) opts=(${optionEntries(up?.options ?? [])}) ;; # spoon NAME
  esac
  if [[ $PREFIX == -* ]]; then
    _describe 'option' opts
  elif [[ -z $cmd ]]; then
    cmds=(${described(spec.commands.flatMap((c) => c.names.map((n): [string, string] => [n, c.description])))})
    _describe 'command' cmds
    compadd -X 'environment' -- \${(f)"$(${NAMES_COMMAND})"}
  elif [[ $cmd == completion ]] && (( npos == 0 )); then
    compadd -- ${SHELLS.join(' ')}
  elif (( takes_name && npos == 0 )); then
    compadd -- $subs \${(f)"$(${NAMES_COMMAND})"}
  else
    _files
  fi
}
if [[ \${funcstack[1]} == _spoon ]]; then _spoon "$@"; else compdef _spoon spoon; fi
`;
}

function fishScript(spec: CompletionSpec): string {
  const valueFlags0 = valueFlags(spec).join(' ');
  const lines: string[] = [
    '# fish completion for spoon. Enable it with:  spoon completion fish | source',
    '# (or save it as ~/.config/fish/completions/spoon.fish)',
    'function __spoon_args --description "the command word and the positional words after it"',
    '    set -l tokens (commandline -opc)',
    '    set -e tokens[1]',
    '    set -l skip 0',
    '    for t in $tokens',
    '        if test $skip = 1',
    '            set skip 0',
    '            continue',
    '        end',
    `        if contains -- $t ${valueFlags0}`,
    '            set skip 1',
    "        else if not string match -q -- '-*' $t",
    '            echo $t',
    '        end',
    '    end',
    'end',
    'function __spoon_command --description "the command being completed; a NAME counts as up"',
    '    set -l args (__spoon_args)',
    '    test (count $args) -gt 0; or return 1',
    `    if contains -- $args[1] ${spec.commands.flatMap((c) => c.names).join(' ')}`,
    '        echo $args[1]',
    '    else',
    `        echo ${spec.defaultCommand}`,
    '    end',
    'end',
    'function __spoon_in --description "completing one of these commands"',
    '    contains -- (__spoon_command) $argv',
    'end',
    'function __spoon_first_arg_of --description "completing the first argument of one of these commands"',
    '    set -l args (__spoon_args)',
    '    test (count $args) -eq 1; and contains -- $args[1] $argv',
    'end',
    'complete -c spoon -f',
  ];
  const optionLine = (condition: string | undefined, o: OptionSpec) => {
    const parts = ['complete -c spoon'];
    if (condition) parts.push(`-n ${quote(condition)}`);
    for (const f of o.flags) parts.push(f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`);
    if (o.value !== 'none') parts.push('-r');
    if (o.value === 'file' || o.value === 'dir') parts.push('-F');
    parts.push(`-d ${quote(o.description)}`);
    return parts.join(' ');
  };
  for (const o of spec.globals) lines.push(optionLine('test -z "$(__spoon_args)"', o));
  for (const c of spec.commands) {
    for (const n of c.names) lines.push(`complete -c spoon -n 'test -z "$(__spoon_args)"' -a ${n} -d ${quote(c.description)}`);
  }
  lines.push(`complete -c spoon -n 'test -z "$(__spoon_args)"' -a '(${NAMES_COMMAND})' -d environment`);
  for (const c of spec.commands) {
    const cond = `__spoon_in ${c.names.join(' ')}`;
    for (const o of c.options) lines.push(optionLine(cond, o));
    if (c.takesFile) lines.push(`complete -c spoon -n ${quote(`__spoon_first_arg_of ${c.names.join(' ')}`)} -F`);
    if (c.takesName) lines.push(`complete -c spoon -n ${quote(`__spoon_first_arg_of ${c.names.join(' ')}`)} -a '${[...c.subcommands, `(${NAMES_COMMAND})`].join(' ')}'`);
  }
  lines.push(`complete -c spoon -n '__spoon_first_arg_of completion' -a '${SHELLS.join(' ')}'`);
  return lines.join('\n') + '\n';
}
