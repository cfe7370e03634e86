package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/steps"
)

// captureHost is a directory of stand-in programs that answer every
// command of a host capture with its recorded output and exit status, and
// refuse any other command with status 127. Every call is appended to log.
type captureHost struct {
	bin string
	log string
}

// newCaptureHost writes the stand-ins for examples/NAME.txtar.
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
	dir := t.TempDir()
	h := &captureHost{bin: filepath.Join(dir, "bin"), log: filepath.Join(dir, "calls.log")}
	outs := filepath.Join(dir, "out")
	for _, d := range []string{h.bin, outs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	lines := rp.Lines()
	sort.Strings(lines)
	cases := map[string]*strings.Builder{}
	for i, line := range lines {
		args, err := splitCommandLine(line)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if got := host.QuoteArgs(args); got != line {
			t.Fatalf("%s: %q splits into %q, which quotes back as %q", path, line, args, got)
		}
		res, err := rp.Run(context.Background(), host.Command{Args: args})
		if err != nil {
			t.Fatal(err)
		}
		stdout := filepath.Join(outs, strconv.Itoa(i)+".stdout")
		stderr := filepath.Join(outs, strconv.Itoa(i)+".stderr")
		if err := os.WriteFile(stdout, res.Stdout, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(stderr, res.Stderr, 0o644); err != nil {
			t.Fatal(err)
		}
		b := cases[args[0]]
		if b == nil {
			b = &strings.Builder{}
			cases[args[0]] = b
		}
		fmt.Fprintf(b, "%s)\n\t/bin/cat %s\n\t/bin/cat %s >&2\n\texit %d\n\t;;\n",
			shellQuote(strings.Join(args[1:], " ")), shellQuote(stdout), shellQuote(stderr), res.ExitCode)
	}
	for prog, b := range cases {
		script := fmt.Sprintf("#!/bin/sh\necho %s \"$*\" >> %s\ncase \"$*\" in\n%sesac\necho \"%s $*: not in the capture\" >&2\nexit 127\n",
			shellQuote(prog), shellQuote(h.log), b.String(), prog)
		if err := os.WriteFile(filepath.Join(h.bin, prog), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// calls returns the command lines the stand-ins were run with.
func (h *captureHost) calls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(h.log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// shellQuote quotes s for sh: literal, also as a case pattern.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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

// runZupgrade runs zupgrade in this process with only the stand-ins of h
// (if any) in PATH and state as its state directory.
func runZupgrade(t *testing.T, h *captureHost, state string, args ...string) zupgradeRun {
	t.Helper()
	path := filepath.Join(t.TempDir(), "empty")
	if h != nil {
		path = h.bin
	}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), append([]string{"zupgrade"}, args...), Env{
		Stdin:   strings.NewReader(""),
		Stdout:  &stdout,
		Stderr:  &stderr,
		Environ: []string{"PATH=" + path, "ZUPGRADE_STATE_DIR=" + state},
	})
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
