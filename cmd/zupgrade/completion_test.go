// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// shell returns the path of a shell the test needs. It is missing only on
// a developer's machine: CI installs it, so there a missing shell fails.
func shell(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (.ci/run installs it)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// completionScript writes `zupgrade completion SHELL` into a file and
// returns its path, with the directory of the zupgrade binary for PATH.
func completionScript(t *testing.T, sh string) (script, binDir string) {
	t.Helper()
	zup, _ := binaries(t)
	out, err := exec.Command(zup, "completion", sh).Output()
	if err != nil {
		t.Fatalf("zupgrade completion %s: %v", sh, err)
	}
	script = filepath.Join(t.TempDir(), "zupgrade."+sh)
	if err := os.WriteFile(script, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return script, filepath.Dir(zup)
}

// runShell runs argv with zupgrade's directory first in PATH.
func runShell(t *testing.T, binDir string, argv ...string) string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	// An empty working directory: fish offers the files there beside the
	// commands, and the package's own files would then depend on names.
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+t.TempDir())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v\n%s%s", argv, err, out.String(), errb.String())
	}
	return out.String()
}

func TestCompletionBash(t *testing.T) {
	bash := shell(t, "bash")
	script, binDir := completionScript(t, "bash")
	runShell(t, binDir, bash, "-n", script)
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		runShell(t, binDir, sc, "-s", "bash", script)
	} else if os.Getenv("CI") != "" {
		t.Fatal("shellcheck is not installed (.ci/run installs it)")
	}
	// The words typed, the last one being completed, and what bash must offer.
	cases := []struct {
		words []string
		want  []string
	}{
		{[]string{"zupgrade", "pl"}, []string{"plan"}},
		{[]string{"zupgrade", ""}, []string{"inspect", "plan", "apply", "status", "rollback", "finalize", "version", "completion"}},
		{[]string{"zupgrade", "--state-dir", "/tmp/s", "ap"}, []string{"apply"}},
		{[]string{"zupgrade", "plan", "--j"}, []string{"--json"}},
		{[]string{"zupgrade", "apply", "--no-"}, []string{"--no-pool-upgrade", "--no-reboot"}},
		{[]string{"zupgrade", "completion", ""}, []string{"bash", "zsh", "fish"}},
		{[]string{"zupgrade", "completion", "f"}, []string{"fish"}},
	}
	for _, c := range cases {
		// The words go to bash as its positional parameters, never as code.
		prog := `source "$1"; shift
spec=$(complete -p zupgrade) || exit 1
fn=${spec#*-F }; fn=${fn%% *}
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
"$fn"
printf '%s\n' "${COMPREPLY[@]}"`
		out := runShell(t, binDir, append([]string{bash, "-c", prog, "bash", script}, c.words...)...)
		got := strings.Fields(out)
		slices.Sort(got)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("completing %q: bash offers %q, want %q", c.words, got, want)
		}
	}
}

func TestCompletionZsh(t *testing.T) {
	zsh := shell(t, "zsh")
	script, binDir := completionScript(t, "zsh")
	runShell(t, binDir, zsh, "-n", script)
	// Sourced after compinit, the script registers itself for zupgrade.
	out := runShell(t, binDir, zsh, "-f", "-c", `autoload -Uz compinit && compinit -u -D && source "$1" && print -r -- ${_comps[zupgrade]}`, "zsh", script)
	if strings.TrimSpace(out) != "_zupgrade" {
		t.Errorf("after sourcing the zsh script, zupgrade completes with %q, want _zupgrade", out)
	}
}

func TestCompletionFish(t *testing.T) {
	fish := shell(t, "fish")
	script, binDir := completionScript(t, "fish")
	runShell(t, binDir, fish, "--no-execute", script)
	cases := []struct {
		line string
		want []string
	}{
		{"zupgrade pl", []string{"plan"}},
		{"zupgrade plan --j", []string{"--json"}},
		{"zupgrade apply --no-r", []string{"--no-reboot"}},
	}
	for _, c := range cases {
		out := runShell(t, binDir, fish, "--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, script, c.line)
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			word, _, _ := strings.Cut(l, "\t")
			got = append(got, word)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("completing %q: fish offers %q, want %q", c.line, got, c.want)
		}
	}
}

func TestCompletionUsage(t *testing.T) {
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}} {
		var out, errb bytes.Buffer
		code := Main(context.Background(), append([]string{"zupgrade"}, args...), Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb})
		if code != ExitUsage || !strings.Contains(errb.String(), "bash, zsh or fish") {
			t.Errorf("zupgrade %q: exit %d, %q; want exit 2 naming the shells", args, code, errb.String())
		}
	}
}
