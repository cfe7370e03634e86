// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// simRunner runs zupgrade's commands in this process on a simulated
// machine (simhost's Machine.Exec), as host.ExecRunner runs them as
// processes through the machine's bin/ links.
type simRunner struct {
	m   *simhost.Machine
	env []string
}

// errNoTerminal: Machine.Exec has no pseudo-terminal to run a command on.
var errNoTerminal = errors.New("the in-process runner runs no command on a terminal: run apply as a process (testHost.zupgrade)")

func (r simRunner) Run(ctx context.Context, cmd host.Command) (host.Result, error) {
	if len(cmd.Args) == 0 {
		return host.Result{}, errors.New("empty command")
	}
	if cmd.Dialog != nil {
		return host.Result{}, errNoTerminal
	}
	// The environment as host.ExecRunner makes it: the runner's, LC_ALL=C,
	// then the command's own.
	env := map[string]string{}
	for _, kv := range append(append(slices.Clone(r.env), "LC_ALL=C"), cmd.Env...) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	var stdout, stderr bytes.Buffer
	var so, se io.Writer = &stdout, &stderr
	if cmd.Output != nil {
		so, se = io.MultiWriter(&stdout, cmd.Output), io.MultiWriter(&stderr, cmd.Output)
	}
	code := r.m.Exec(ctx, cmd.Args, bytes.NewReader(cmd.Stdin), so, se, env)
	return host.Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: code}, nil
}

// inProcess reports whether a command runs in this process in the
// end-to-end tests: those that need no process of their own. apply and
// rollback run as processes: they reboot the machine, copy the running
// binary for the boot hook, are killed by the crash tests and the power.
func inProcess(args []string) bool {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return slices.Contains([]string{"inspect", "plan", "status", "version"}, a)
		}
	}
	return false
}

// zupgradeHere runs zupgrade in this process against the machine and
// returns its exit code and combined output, as zupgradeFor does for the
// binary.
func (h *testHost) zupgradeHere(env []string, args ...string) (int, string) {
	h.t.Helper()
	var out bytes.Buffer
	environ := append(h.m.Env(), env...)
	code := Main(context.Background(), append([]string{"zupgrade", "--state-dir", h.state}, args...), Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Environ: environ,
		Runner: simRunner{m: h.m, env: environ},
	})
	return code, out.String()
}

// TestInProcessMatchesProcess: a command run in process against the
// machine prints what the binary run on it prints.
func TestInProcessMatchesProcess(t *testing.T) {
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios+uefi", Release: "13.4-RELEASE", ESPs: "all"})
	for _, args := range [][]string{{"inspect", "--json"}, {"plan", "--to", "14.2-RELEASE", "--json"}, {"status"}} {
		here, outHere := h.zupgradeHere(nil, args...)
		there, outThere := h.zupgradeFor(2*time.Minute, nil, args...)
		// The plan says when it was made (its time, the backup's name):
		// the two runs differ there only.
		when := regexp.MustCompile(`"created": "[^"]*"|-\d{8}T\d{6}\b`)
		outHere, outThere = when.ReplaceAllString(outHere, "WHEN"), when.ReplaceAllString(outThere, "WHEN")
		if here != there || strings.TrimSpace(outHere) != strings.TrimSpace(outThere) {
			t.Errorf("zupgrade %v: in process exit %d, as a process exit %d:\n%s\n---\n%s", args, here, there, outHere, outThere)
		}
	}
}
