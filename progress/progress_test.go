// SPDX-License-Identifier: BSD-2-Clause

package progress

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/log"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// t0 is the time the test runs start at; tests move time by hand.
var t0 = time.Date(2026, 11, 26, 13, 5, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// recorder keeps every event it receives.
type recorder struct {
	mu     sync.Mutex
	events []Event
	c      chan Event
}

func (r *recorder) Emit(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	if r.c != nil {
		r.c <- e
	}
}

func (r *recorder) got() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

func TestLinesReportsPartialLinesAtOnce(t *testing.T) {
	var rec recorder
	now := t0
	l := &Lines{Emit: rec.Emit, Now: func() time.Time { return now }}
	for _, chunk := range []string{"Fetching 2 patches.", "....10", "....20\nInst", "alling: 10%\r", "20%\r", "100%\r\n", "no end"} {
		l.Write([]byte(chunk))
	}
	l.Flush()
	want := []Event{
		{Kind: Partial, Time: t0, Text: "Fetching 2 patches."},
		{Kind: Partial, Time: t0, Text: "Fetching 2 patches.....10"},
		{Kind: Output, Time: t0, Text: "Fetching 2 patches.....10....20"},
		{Kind: Partial, Time: t0, Text: "Inst"},
		{Kind: Partial, Time: t0, Text: "Installing: 10%"},
		{Kind: Partial, Time: t0, Text: "20%"},
		{Kind: Output, Time: t0, Text: "100%"},
		{Kind: Partial, Time: t0, Text: "no end"},
		{Kind: Output, Time: t0, Text: "no end"},
	}
	if d := cmp.Diff(want, rec.got()); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}

func TestLinesWatchStopsOnAPrompt(t *testing.T) {
	var rec recorder
	l := &Lines{Emit: rec.Emit, Now: func() time.Time { return t0 }, Watch: func(s string) bool { return strings.HasSuffix(s, "[y/N]: ") }}
	l.Write([]byte("one line\nProceed? [y/N]: "))
	l.Write([]byte("y\n"))
	if got := l.Stalled(); got != "Proceed? [y/N]: " {
		t.Errorf("Stalled() = %q, want the prompt", got)
	}
}

// run is the events of one step whose command prints progress on an
// unended line, is silent for a minute, ends the line and exits.
func run() []Event {
	argv := []string{"freebsd-update", "fetch"}
	return []Event{
		{Kind: StepStarted, Time: at(0), Step: "fetch", Title: "Fetch the upgrade", N: 2, Of: 13, Text: "pending"},
		{Kind: CommandStarted, Time: at(0), Step: "fetch", Argv: argv, Env: []string{"PAGER=cat"}},
		{Kind: Output, Time: at(time.Second), Step: "fetch", Text: "Fetching 2 patches."},
		{Kind: Partial, Time: at(2 * time.Second), Step: "fetch", Text: "....10"},
		{Kind: Partial, Time: at(2*time.Second + 50*time.Millisecond), Step: "fetch", Text: "....10....20"},
		{Kind: Heartbeat, Time: at(3 * time.Second), Step: "fetch", Argv: argv, Elapsed: 3 * time.Second},
		{Kind: Heartbeat, Time: at(30 * time.Second), Step: "fetch", Argv: argv, Elapsed: 30 * time.Second},
		{Kind: Partial, Time: at(40 * time.Second), Step: "fetch", Text: "70%"},
		{Kind: Heartbeat, Time: at(59 * time.Second), Step: "fetch", Argv: argv, Elapsed: 59 * time.Second},
		{Kind: Heartbeat, Time: at(60 * time.Second), Step: "fetch", Argv: argv, Elapsed: 60 * time.Second},
		{Kind: Output, Time: at(61 * time.Second), Step: "fetch", Text: "....10....20 done."},
		{Kind: CommandEnded, Time: at(62 * time.Second), Step: "fetch", Argv: argv, Env: []string{"PAGER=cat"}, Exit: 0, Elapsed: 62 * time.Second, Stdout: []byte("Fetching 2 patches.\n....10....20 done.\n")},
		{Kind: Note, Time: at(62 * time.Second), Step: "fetch", Text: "nothing to install"},
		{Kind: StepDone, Time: at(62 * time.Second), Step: "fetch", Elapsed: 62 * time.Second},
		{Kind: StepStarted, Time: at(63 * time.Second), Step: "reboot", Title: "Reboot", N: 3, Of: 13, Text: "pending"},
		{Kind: Checkpoint, Time: at(63 * time.Second), Step: "reboot", Text: "rebooting; the boot hook resumes the run"},
		{Kind: Error, Time: at(64 * time.Second), Text: "step reboot: shutdown: exit status 1", ExitCode: 1},
	}
}

func render(s Sink) {
	for _, e := range run() {
		s.Emit(e)
	}
}

func TestPlainShowsProgressAsItComesAndAHeartbeatEvery30s(t *testing.T) {
	var out bytes.Buffer
	render(NewPlain(&out))
	want := `[2/13] Fetch the upgrade (fetch)
      $ freebsd-update fetch
      | Fetching 2 patches.
      | ....10....20
      ... still running after 30s: freebsd-update fetch (....10....20)
      ... still running after 1m0s: freebsd-update fetch (70%)
      | ....10....20 done.
      nothing to install
      done in 1m2s
[3/13] Reboot (reboot)
      checkpoint: rebooting; the boot hook resumes the run
`
	if d := cmp.Diff(want, out.String()); d != "" {
		t.Errorf("plain output (-want +got):\n%s", d)
	}
}

func TestStatusLineRedrawsBelowTheOutput(t *testing.T) {
	var out bytes.Buffer
	render(NewStatus(&out, 100))
	const clear = "\r\x1b[K"
	want := strings.Join([]string{
		"[2/13] Fetch the upgrade (fetch)\n",
		clear + "[2/13] Fetch the upgrade 0s",
		clear + "      $ freebsd-update fetch\n",
		clear + "[2/13] Fetch the upgrade 0s | freebsd-update fetch 0s",
		clear + "      | Fetching 2 patches.\n",
		clear + "[2/13] Fetch the upgrade 1s | freebsd-update fetch 1s",
		clear + "[2/13] Fetch the upgrade 2s | freebsd-update fetch 2s | ....10",
		// The second progress 50 ms later waits for the heartbeat.
		clear + "[2/13] Fetch the upgrade 3s | freebsd-update fetch 3s | ....10....20",
		clear + "[2/13] Fetch the upgrade 30s | freebsd-update fetch 30s | ....10....20",
		clear + "[2/13] Fetch the upgrade 40s | freebsd-update fetch 40s | 70%",
		clear + "[2/13] Fetch the upgrade 59s | freebsd-update fetch 59s | 70%",
		clear + "[2/13] Fetch the upgrade 1m0s | freebsd-update fetch 1m0s | 70%",
		clear + "      | ....10....20 done.\n",
		clear + "[2/13] Fetch the upgrade 1m1s | freebsd-update fetch 1m1s",
		clear + "[2/13] Fetch the upgrade 1m2s",
		clear + "      nothing to install\n",
		clear + "[2/13] Fetch the upgrade 1m2s",
		clear + "      done in 1m2s\n",
		"[3/13] Reboot (reboot)\n",
		clear + "[3/13] Reboot 0s",
		clear + "      checkpoint: rebooting; the boot hook resumes the run\n",
	}, "")
	if d := cmp.Diff(strings.SplitAfter(want, "\n"), strings.SplitAfter(out.String(), "\n")); d != "" {
		t.Errorf("terminal output (-want +got):\n%s", d)
	}
}

func TestStatusLineFitsTheTerminalKeepingTheProgress(t *testing.T) {
	var out bytes.Buffer
	s := NewStatus(&out, 40)
	s.Emit(Event{Kind: StepStarted, Time: t0, Step: "fetch", Title: "Fetch the upgrade", N: 2, Of: 13})
	s.Emit(Event{Kind: CommandStarted, Time: t0, Argv: []string{"freebsd-update", "-r", "14.2-RELEASE", "upgrade"}})
	out.Reset()
	s.Emit(Event{Kind: Partial, Time: at(time.Second), Text: "Fetching 1234 files... ....10....20....30....40"})
	got := strings.TrimPrefix(out.String(), "\r\x1b[K")
	if n := len([]rune(got)); n != 39 || !strings.HasSuffix(got, "....30....40") || !strings.HasPrefix(got, "[2/13] Fetch") {
		t.Errorf("status line %q (%d characters): want 39 characters, the step first and the progress's end last", got, n)
	}
	s.End()
	if !strings.HasSuffix(out.String(), "\r\x1b[K") {
		t.Errorf("End left the status line: %q", out.String())
	}
}

// TestJSONLinesGolden compares the whole JSON Lines document of a run
// with testdata/run.jsonl, object by object.
func TestJSONLinesGolden(t *testing.T) {
	var out bytes.Buffer
	render(NewJSONLines(&out))
	golden := filepath.Join("testdata", "run.jsonl")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(decodeLines(t, want), decodeLines(t, out.Bytes())); d != "" {
		t.Errorf("JSON Lines (-%s +got):\n%s", golden, d)
	}
}

// decodeLines decodes a JSON Lines document, one value per line.
func decodeLines(t *testing.T, data []byte) []any {
	t.Helper()
	var doc []any
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var v any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line %d %q: %v", i+1, line, err)
		}
		doc = append(doc, v)
	}
	return doc
}

func TestPulseBeatsOnlyWhileACommandRuns(t *testing.T) {
	rec := &recorder{c: make(chan Event, 1)}
	ticks := make(chan time.Time)
	p := NewPulse(rec, ticks)
	defer p.Stop()
	ticks <- at(time.Second) // nothing runs: no heartbeat
	p.Emit(Event{Kind: CommandStarted, Time: at(2 * time.Second), Step: "fetch", Argv: []string{"freebsd-update", "fetch"}})
	<-rec.c
	ticks <- at(5 * time.Second)
	hb := <-rec.c
	want := Event{Kind: Heartbeat, Time: at(5 * time.Second), Step: "fetch", Argv: []string{"freebsd-update", "fetch"}, Elapsed: 3 * time.Second}
	if d := cmp.Diff(want, hb); d != "" {
		t.Errorf("heartbeat (-want +got):\n%s", d)
	}
	p.Emit(Event{Kind: CommandEnded, Time: at(6 * time.Second)})
	<-rec.c
	ticks <- at(7 * time.Second)
	p.Emit(Event{Kind: Note, Time: at(8 * time.Second)})
	if e := <-rec.c; e.Kind != Note {
		t.Errorf("after the command ended, a tick made a %s event", e.Kind)
	}
	if n := len(rec.got()); n != 4 {
		t.Errorf("%d events passed, want the 3 sent and 1 heartbeat: %+v", n, rec.got())
	}
}

// TestPulseSkipsTicksFromBeforeTheCommand: a tick the ticker took before
// the command started, handled once it runs (the goroutine ran late), is
// no heartbeat of it: the first heartbeat is the next tick's.
func TestPulseSkipsTicksFromBeforeTheCommand(t *testing.T) {
	rec := &recorder{c: make(chan Event, 2)}
	ticks := make(chan time.Time)
	p := NewPulse(rec, ticks)
	defer p.Stop()
	p.Emit(Event{Kind: CommandStarted, Time: at(2 * time.Second), Step: "fetch", Argv: []string{"freebsd-update", "fetch"}})
	<-rec.c
	ticks <- at(time.Second)
	ticks <- at(3 * time.Second)
	if hb := <-rec.c; hb.Kind != Heartbeat || !hb.Time.Equal(at(3*time.Second)) || hb.Elapsed != time.Second {
		t.Errorf("first heartbeat at %v after %v, want the tick at 3s, 1s into the command", hb.Time.Sub(t0), hb.Elapsed)
	}
}

func TestRunLogKeepsEveryCommandWithItsOutput(t *testing.T) {
	var out bytes.Buffer
	render(RunLog{Log: log.NewWithOptions(&out, log.Options{Formatter: log.JSONFormatter})})
	var msgs []string
	var cmd map[string]any
	for _, v := range decodeLines(t, out.Bytes()) {
		rec := v.(map[string]any)
		msgs = append(msgs, rec["msg"].(string))
		if rec["msg"] == "command" {
			cmd = rec
		}
	}
	if d := cmp.Diff([]string{"step", "command", "note", "step done", "step", "checkpoint", "error"}, msgs); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
	if cmd["cmd"] != "freebsd-update fetch" || cmd["env"] != "PAGER=cat" || cmd["stdout"] != "Fetching 2 patches.\n....10....20 done.\n" || cmd["elapsed"] != "1m2s" {
		t.Errorf("command record %v", cmd)
	}
}

// BenchmarkRenderers measures one event through the whole stream of apply
// (a Pulse, the status line, plain lines, JSON Lines, the run log), all
// writing to nowhere.
func BenchmarkRenderers(b *testing.B) {
	ticks := make(chan time.Time)
	p := NewPulse(Tee(NewStatus(io.Discard, 80), NewPlain(io.Discard), NewJSONLines(io.Discard)), ticks)
	defer p.Stop()
	s := Tee(p, RunLog{Log: log.NewWithOptions(io.Discard, log.Options{Formatter: log.JSONFormatter})})
	events := run()
	for b.Loop() {
		for _, e := range events {
			s.Emit(e)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
}

func TestStatusLinePrintsTheLogAboveIt(t *testing.T) {
	var out, logw bytes.Buffer
	s := NewStatus(&out, 100)
	s.Emit(Event{Kind: StepStarted, Time: t0, Step: "fetch", Title: "Fetch the upgrade", N: 2, Of: 13})
	w := s.Above(&logw)
	both := func() string { return out.String() + "|" + logw.String() }
	io.WriteString(w, "INFO resuming run\n")
	want := "[2/13] Fetch the upgrade (fetch)\n\r\x1b[K[2/13] Fetch the upgrade 0s\r\x1b[K\r\x1b[K[2/13] Fetch the upgrade 0s|INFO resuming run\n"
	if got := both(); got != want {
		t.Errorf("terminal and log:\n got %q\nwant %q", got, want)
	}
}
