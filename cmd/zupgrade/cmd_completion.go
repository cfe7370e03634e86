// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"io"

	"github.com/urfave/cli/v2"
)

// completionShells are the shells `zupgrade completion` writes a script
// for.
var completionShells = []string{"bash", "zsh", "fish"}

// bashCompletion completes zupgrade's words in bash by asking zupgrade
// itself (its hidden --generate-bash-completion), so that the script never
// falls behind the command line. The words typed are passed as arguments,
// never evaluated. When zupgrade offers nothing (an option's value), bash
// completes file names.
const bashCompletion = `# bash completion for zupgrade(8); load it with
#   source <(zupgrade completion bash)
# or install it as /usr/local/share/bash-completion/completions/zupgrade.
_zupgrade()
{
	local cur="${COMP_WORDS[COMP_CWORD]}"
	local -a words=("${COMP_WORDS[@]:1:COMP_CWORD-1}")
	local opts
	if [[ "$cur" == -* ]]; then
		words+=("$cur")
	fi
	opts=$("${COMP_WORDS[0]}" "${words[@]}" --generate-bash-completion 2>/dev/null)
	mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
}
complete -o default -F _zupgrade zupgrade
`

// zshCompletion completes zupgrade's words in zsh, with each word's
// description, by asking zupgrade as the bash script does. It works both
// from fpath (as the file _zupgrade) and sourced.
const zshCompletion = `#compdef zupgrade
# zsh completion for zupgrade(8); load it with
#   source <(zupgrade completion zsh)
# or install it as _zupgrade in a directory of $fpath.
_zupgrade()
{
	local -a opts words_before
	local cur="${words[CURRENT]}"
	words_before=("${(@)words[2,CURRENT-1]}")
	if [[ "$cur" == -* ]]; then
		words_before+=("$cur")
	fi
	opts=("${(@f)$(_CLI_ZSH_AUTOCOMPLETE_HACK=1 "${words[1]}" "${(@)words_before}" --generate-bash-completion 2>/dev/null)}")
	if [[ -n "${opts[1]}" ]]; then
		_describe 'zupgrade' opts
	else
		_files
	fi
}
if [[ "${funcstack[1]}" == "_zupgrade" ]]; then
	_zupgrade "$@"
else
	compdef _zupgrade zupgrade
fi
`

func completionCommand(app *cli.App, env Env) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: "bash: source <(zupgrade completion bash)\n" +
			"zsh:  source <(zupgrade completion zsh), or save it as _zupgrade in $fpath\n" +
			"fish: zupgrade completion fish > ~/.config/fish/completions/zupgrade.fish",
		BashComplete: func(*cli.Context) {
			for _, s := range completionShells {
				fprintf(env.Stdout, "%s\n", s)
			}
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("completion takes one shell: bash, zsh or fish")
			}
			var script string
			switch shell := c.Args().First(); shell {
			case "bash":
				script = bashCompletion
			case "zsh":
				script = zshCompletion
			case "fish":
				s, err := app.ToFishCompletion()
				if err != nil {
					return err
				}
				script = s
			default:
				return usageErrorf("completion %q: want bash, zsh or fish", shell)
			}
			_, err := io.WriteString(env.Stdout, script)
			return err
		},
	}
}
