// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// fetchProgress is what the hung freebsd-update upgrade leaves on its
// unended line, as its fetch_progress does while files come.
const fetchProgress = "Fetching 1234 files... ....10....20"

// rawRun is a zupgrade process of the test host whose output is read as it
// comes, chunk by chunk, not line by line.
type rawRun struct {
	p    *simhost.Process
	mu   sync.Mutex
	out  bytes.Buffer
	more chan struct{} // a value after every chunk read
	done chan struct{} // closed at the end of the output
}

// startRaw starts zupgrade with its standard output on a pipe, or on a
// terminal when tty is set.
func (h *testHost) startRaw(tty bool, args ...string) *rawRun {
	h.t.Helper()
	cmd := exec.Command(h.exe, append([]string{"--state-dir", h.state}, args...)...)
	cmd.Env = h.m.Env()
	cmd.Dir = h.m.Root
	pr, pw, err := os.Pipe()
	if tty {
		pr, pw, err = pty.Open()
		if err == nil {
			err = pty.Setsize(pr, &pty.Winsize{Rows: 50, Cols: 200})
		}
	}
	if err != nil {
		h.t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = pw, &stderr
	p, err := h.m.Start(cmd)
	pw.Close()
	if err != nil {
		h.t.Fatal(err)
	}
	r := &rawRun{p: p, more: make(chan struct{}, 1), done: make(chan struct{})}
	// A test that fails early leaves neither zupgrade nor the hung
	// command running.
	h.t.Cleanup(func() {
		p.Cmd.Process.Kill()
		h.killMachineProcesses()
	})
	go func() {
		defer close(r.done)
		defer pr.Close()
		buf := make([]byte, 4096)
		for {
			n, err := pr.Read(buf)
			r.mu.Lock()
			r.out.Write(buf[:n])
			r.mu.Unlock()
			select {
			case r.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return r
}

func (r *rawRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// waitFor waits until the output satisfies ok, and fails the test when the
// output ends first or the test's deadline nears.
func (r *rawRun) waitFor(t *testing.T, what string, ok func(string) bool) {
	t.Helper()
	deadline := time.NewTimer(time.Until(testDeadline(t)))
	defer deadline.Stop()
	for !ok(r.output()) {
		select {
		case <-r.more:
		case <-r.done:
			if !ok(r.output()) {
				t.Fatalf("apply's output ended before %s:\n%s", what, r.output())
			}
		case <-deadline.C:
			t.Fatalf("apply's output never showed %s:\n%s", what, r.output())
		}
	}
}

// testDeadline is a minute before the test binary's deadline (ten minutes
// from now without one).
func testDeadline(t *testing.T) time.Time {
	if d, ok := t.Deadline(); ok {
		return d.Add(-time.Minute)
	}
	return time.Now().Add(10 * time.Minute)
}

// TestApplyShowsPartialLinesWhileTheCommandRuns: freebsd-update upgrade
// prints progress without ending its line and then waits (a hang fault);
// apply's output, piped, shows that progress while the command still runs,
// as plain text and as a partial event with --json. Killing the command
// fails the step, which --json reports as events too.
func TestApplyShowsPartialLinesWhileTheCommandRuns(t *testing.T) {
	for _, tt := range []struct {
		name  string
		json  bool
		tty   bool
		shown func(string) bool
	}{
		{"plain", false, false, func(out string) bool { return strings.Contains(out, "      | "+fetchProgress) }},
		{"json", true, false, func(out string) bool {
			return strings.Contains(out, `"type":"partial"`) && strings.Contains(out, `"text":"`+fetchProgress+`"`)
		}},
		// On a terminal the status line says which step of how many
		// runs, the command, and its progress.
		{"terminal", false, true, func(out string) bool {
			return regexp.MustCompile(`\r\x1b\[K\[4/13\] Fetch the upgrade to 14\.2-RELEASE \d+s \| freebsd-update --not-running-from-cron -r 14\.2-RELEASE upgrade \d+s \| ` + regexp.QuoteMeta(fetchProgress)).MatchString(out)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, simhost.Spec{Preset: "bios", Release: "14.1-RELEASE"})
			if err := h.m.AddFault(simhost.Fault{Command: "freebsd-update", Args: "upgrade", Action: simhost.FaultHang, Partial: true, Message: fetchProgress}); err != nil {
				t.Fatal(err)
			}
			args := []string{"apply", "--to", "14.2-RELEASE", "--no-reboot"}
			if tt.json {
				args = append(args, "--json")
			}
			r := h.startRaw(tt.tty, args...)
			r.waitFor(t, "the progress of freebsd-update upgrade", tt.shown)
			pid := h.hungPid(t, "upgrade")
			if pid == 0 {
				t.Fatalf("the progress was shown, but freebsd-update upgrade no longer runs:\n%s", r.output())
			}
			syscall.Kill(pid, syscall.SIGTERM)
			err := r.p.Wait()
			<-r.done
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != ExitFailed {
				t.Fatalf("apply after the command was killed: %v, want exit %d:\n%s", err, ExitFailed, r.output())
			}
			if !tt.json {
				return
			}
			var kinds []string
			var last map[string]any
			for _, line := range strings.Split(strings.TrimSuffix(r.output(), "\n"), "\n") {
				if err := json.Unmarshal([]byte(line), &last); err != nil {
					t.Fatalf("apply --json printed a line that is not JSON: %q: %v\n%s", line, err, r.output())
				}
				if last["version"] != float64(1) {
					t.Errorf("event without version 1: %s", line)
				}
				kinds = append(kinds, last["type"].(string))
			}
			if !slices.Contains(kinds, "step-failed") || kinds[len(kinds)-1] != "error" || last["exit"] != float64(ExitFailed) {
				t.Errorf("apply --json: events %v, the last %v; want a step-failed and last an error with exit %d", kinds, last, ExitFailed)
			}
		})
	}
}

// hungPid returns the pid of the hung freebsd-update whose arguments hold
// args, or 0 when none runs.
func (h *testHost) hungPid(t *testing.T, args string) int {
	t.Helper()
	model, err := h.m.Model()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range model.History {
		if c.Waiting && strings.HasSuffix(c.Argv[0], "freebsd-update") && strings.Contains(strings.Join(c.Argv, " "), args) && syscall.Kill(c.Pid, 0) == nil {
			return c.Pid
		}
	}
	return 0
}
