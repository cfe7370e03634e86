// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/steps"
)

// captureHost is a host that answers every command of a host capture
// with its recorded output and exit status, and any other command with
// status 127, as a host without the program would. It is zupgrade's
// runner (Env.Runner) and keeps every call.
type captureHost struct {
	rp    *host.Replay
	mu    sync.Mutex
	lines []string
}

// newCaptureHost reads examples/NAME.txtar.
func newCaptureHost(t *testing.T, name string) *captureHost {
	t.Helper()
	path := filepath.Join("..", "..", "examples", name+".txtar")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := host.ParseCapture(path, data)
	if err != nil {
		t.Fatal(err)
	}
	return &captureHost{rp: rp}
}

func (h *captureHost) Run(ctx context.Context, cmd host.Command) (host.Result, error) {
	h.mu.Lock()
	h.lines = append(h.lines, cmd.Line())
	h.mu.Unlock()
	res, err := h.rp.Run(ctx, cmd)
	if err != nil {
		return host.Result{ExitCode: host.ExitNotFound, Stderr: []byte(cmd.Line() + ": not in the capture\n")}, nil
	}
	return res, nil
}

// calls returns the command lines zupgrade ran.
func (h *captureHost) calls(*testing.T) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.lines)
}

// splitCommandLine undoes host.QuoteArgs: words separated by spaces,
// single-quoted where needed; a backslash outside quotes escapes the next
// character (QuoteArgs writes a quote inside a quoted word that way).
func splitCommandLine(line string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\'':
			quoted = false
		case quoted:
			cur.WriteByte(c)
		case c == '\'':
			quoted, inWord = true, true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == ' ':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("%q: unterminated quote", line)
	}
	if inWord {
		args = append(args, cur.String())
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("%q: no command", line)
	}
	return args, nil
}

// zupgradeRun is one in-process run of zupgrade.
type zupgradeRun struct {
	code           int
	stdout, stderr string
}

// runZupgrade runs zupgrade in this process against h (nil: a host where
// every command is missing) with state as its state directory.
func runZupgrade(t *testing.T, h *captureHost, state string, args ...string) zupgradeRun {
	t.Helper()
	env := Env{
		Stdin:   strings.NewReader(""),
		Environ: []string{"PATH=" + filepath.Join(t.TempDir(), "empty"), "ZUPGRADE_STATE_DIR=" + state},
	}
	if h != nil {
		env.Runner = h
	}
	var stdout, stderr bytes.Buffer
	env.Stdout, env.Stderr = &stdout, &stderr
	code := Main(context.Background(), append([]string{"zupgrade"}, args...), env)
	return zupgradeRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// savePlan saves the plan zupgrade makes for a capture and returns its
// file.
func savePlan(t *testing.T, capture, to string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "plan.json")
	r := runZupgrade(t, nil, t.TempDir(), "plan", "--replay", filepath.Join("..", "..", "examples", capture+".txtar"), "--to", to, "-o", out)
	if r.code != ExitOK {
		t.Fatalf("plan %s: exit %d: %s", capture, r.code, r.stderr)
	}
	return out
}

func TestSplitCommandLine(t *testing.T) {
	for _, args := range [][]string{
		{"id", "-u"},
		{"grep", "-n", "-F", "-e", `P="[`, "-e", "libsys", "/usr/sbin/freebsd-update"},
		{"echo", "it's", "", "a b"},
	} {
		got, err := splitCommandLine(host.QuoteArgs(args))
		if err != nil || strings.Join(got, "\x00") != strings.Join(args, "\x00") {
			t.Errorf("splitCommandLine(QuoteArgs(%q)) = %q, %v", args, got, err)
		}
	}
}

// TestApplyStalePlan: a saved plan whose facts do not match the host is
// refused with exit 6 before anything runs that could change the host,
// and no run starts.
func TestApplyStalePlan(t *testing.T) {
	tests := []struct {
		name string
		plan func(t *testing.T) string
	}{
		{"facts_hash edited", func(t *testing.T) string {
			p := savePlan(t, "mirror-bios-uefi", "14.2-RELEASE")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			doc["facts_hash"] = strings.Repeat("0", 64)
			data, err = json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}},
		{"plan of another host", func(t *testing.T) string {
			return savePlan(t, "bios-mirror", "14.2-RELEASE")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newCaptureHost(t, "mirror-bios-uefi")
			state := filepath.Join(t.TempDir(), "state")
			plan := tc.plan(t)
			r := runZupgrade(t, h, state, "apply", plan)
			if r.code != ExitStale {
				t.Fatalf("apply: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, ExitStale, r.stdout, r.stderr)
			}
			if want := plan + " no longer matches the host (it changed since the plan was made): make a new plan with zupgrade plan -o"; !strings.Contains(r.stderr, want) {
				t.Errorf("stderr %q does not say %q", r.stderr, want)
			}
			if _, err := os.Stat(filepath.Join(state, "journal.json")); !os.IsNotExist(err) {
				t.Errorf("a journal was written (%v)", err)
			}
			calls := h.calls(t)
			if len(calls) == 0 {
				t.Fatalf("apply did not inspect the host")
			}
			for _, c := range calls {
				args, err := splitCommandLine(c)
				if err != nil || !host.ReadOnly(args) {
					t.Errorf("apply ran %q on the host before refusing the plan", c)
				}
			}
		})
	}
}

// TestApplySavedPlanMatchingHost is the other side of TestApplyStalePlan:
// the unedited plan of the same host is accepted and its run starts (and
// stops at the first command the capture cannot answer: making the
// backup).
func TestApplySavedPlanMatchingHost(t *testing.T) {
	h := newCaptureHost(t, "mirror-bios-uefi")
	state := filepath.Join(t.TempDir(), "state")
	plan := savePlan(t, "mirror-bios-uefi", "14.2-RELEASE")
	r := runZupgrade(t, h, state, "apply", "--no-reboot", plan)
	if r.code == ExitStale || strings.Contains(r.stderr, "no longer matches") {
		t.Fatalf("apply refused the plan of this very host: exit %d: %s", r.code, r.stderr)
	}
	j, err := steps.Store{Dir: state}.Load()
	if err != nil || j == nil {
		t.Fatalf("no journal after apply started: %v, %v", j, err)
	}
	if rec := j.Record(steps.StepPreflight); rec == nil || rec.State != steps.StepDone {
		t.Errorf("preflight record %+v, want done", rec)
	}
	if r.code != ExitFailed || j.Status != steps.StatusFailed || !strings.Contains(j.Message, "step backup") {
		t.Errorf("exit %d, journal %s %q; want exit 1 at the backup step (the capture has no bectl create)\nstderr:\n%s", r.code, j.Status, j.Message, r.stderr)
	}
}

// TestApplyLockedInProcess: while this process holds the state
// directory's lock, apply and rollback exit 5 naming it, and run nothing
// but the read of the boot environment they run in.
func TestApplyLockedInProcess(t *testing.T) {
	h := newCaptureHost(t, "mirror-bios-uefi")
	state := filepath.Join(t.TempDir(), "state")
	unlock, err := steps.Store{Dir: state}.Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	holder := "(pid " + strconv.Itoa(os.Getpid()) + " since "
	for _, args := range [][]string{
		{"apply", "--to", "14.2-RELEASE"},
		{"apply", "--resume"},
		{"apply", savePlan(t, "mirror-bios-uefi", "14.2-RELEASE")},
		{"rollback", "--no-reboot"},
	} {
		r := runZupgrade(t, h, state, args...)
		if r.code != ExitLocked {
			t.Errorf("%s: exit %d, want %d: %s", strings.Join(args, " "), r.code, ExitLocked, r.stderr)
		}
		if !strings.Contains(r.stderr, "another zupgrade run holds "+filepath.Join(state, "lock")+" "+holder) {
			t.Errorf("%s: stderr %q does not name the holder %s", strings.Join(args, " "), r.stderr, holder)
		}
	}
	// Only the boot environment is read (kenv), for the lock's owner
	// record: nothing that could change the host.
	for _, c := range h.calls(t) {
		if args, err := splitCommandLine(c); err != nil || !host.ReadOnly(args) || args[0] != "kenv" {
			t.Errorf("a locked-out run ran %q", c)
		}
	}
}
