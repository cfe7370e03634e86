// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/zupgrade/zupgrade/host"
)

// refusingRunner fails every command and remembers it: a machine that
// must not be asked anything.
type refusingRunner struct {
	mu  sync.Mutex
	ran []string
}

func (r *refusingRunner) Run(_ context.Context, cmd host.Command) (host.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ran = append(r.ran, cmd.Line())
	return host.Result{}, fmt.Errorf("the local machine was asked %s", cmd.Line())
}

// TestPlanReplayAsksNothingLocally: plan --replay plans from the capture
// alone: with no --state-dir (so zupgrade picks the state directory) and
// with one, it runs no command on the machine it runs on. With none, the
// capture cannot tell whether the captured host's pool root dataset can
// hold the journal (it holds no zfs get or df of it), and the Method line
// says so.
func TestPlanReplayAsksNothingLocally(t *testing.T) {
	capture := filepath.Join("..", "..", "examples", "mirror-bios-uefi.txtar")
	for _, c := range []struct {
		args   []string
		method string
	}{
		{[]string{"zupgrade", "plan", "--replay", capture, "--to", "14.2-RELEASE"}, "a capture cannot tell"},
		{[]string{"zupgrade", "--state-dir", "/zroot/zupgrade", "plan", "--replay", capture, "--to", "14.2-RELEASE"}, "/zroot/zupgrade is not known to be outside the boot environment"},
	} {
		args := c.args
		t.Run(strings.Join(args[1:3], " "), func(t *testing.T) {
			r := &refusingRunner{}
			var out, errb bytes.Buffer
			env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Runner: r, HostRoot: t.TempDir()}
			code := Main(context.Background(), args, env)
			if code != ExitOK && code != ExitBlocked {
				t.Fatalf("%q: exit %d\n%s%s", args, code, out.String(), errb.String())
			}
			if len(r.ran) > 0 {
				t.Errorf("%q asked the local machine: %q", args, r.ran)
			}
			var method string
			for _, l := range strings.Split(out.String(), "\n") {
				if strings.HasPrefix(l, "Method: ") {
					method = l
				}
			}
			if !strings.HasPrefix(method, "Method: in place") || !strings.Contains(method, c.method) {
				t.Errorf("%q: the Method line does not say %q:\n%s", args, c.method, method)
			}
		})
	}
}
