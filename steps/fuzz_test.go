// SPDX-License-Identifier: BSD-2-Clause

package steps_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/steps"
)

// FuzzCapturePlan feeds any bytes to the path of plan --replay: the capture
// parser, the inspection and the plan. None may panic; a capture that
// parses and gathers gives a plan whose checks all have a verdict.
func FuzzCapturePlan(f *testing.F) {
	paths, _ := filepath.Glob("../examples/*.txtar")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "15.0-RELEASE")
	}
	f.Add([]byte(host.CaptureHeader+"\n-- --\n"), "")
	f.Fuzz(func(t *testing.T, data []byte, to string) {
		rp, err := host.ParseCapture("fuzz.txtar", data)
		if err != nil {
			return
		}
		fs, err := facts.Gather(context.Background(), rp)
		if err != nil {
			return
		}
		p := steps.Build(fs, steps.Options{To: to, Now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
		if len(p.Checks) == 0 {
			t.Fatal("a plan without checks")
		}
		for _, c := range p.Checks {
			switch c.Verdict {
			case steps.OK, steps.Warn, steps.Block:
			default:
				t.Fatalf("check %s has verdict %q", c.ID, c.Verdict)
			}
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("the plan does not marshal: %v", err)
		}
	})
}

// FuzzJournalLoad feeds any bytes to the journal loader: it returns a
// journal that saves and loads back alike, or a *JournalError; it never
// panics and never returns another kind of error for a readable file.
func FuzzJournalLoad(f *testing.F) {
	j := steps.NewJournal(steps.Build(exampleFacts(f, "mirror-bios-uefi"), steps.Options{To: "14.2-RELEASE", Now: journalTime}), journalTime)
	good, err := json.Marshal(j)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(`{"format": 1, "status": "bogus"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := steps.Store{Dir: t.TempDir()}
		if err := os.WriteFile(s.JournalPath(), data, 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := s.Load()
		var je *steps.JournalError
		switch {
		case err != nil && !errors.As(err, &je):
			t.Fatalf("Load: %T %v, want a *JournalError", err, err)
		case err != nil:
			return
		}
		if err := s.Save(j); err != nil {
			t.Fatalf("Save of a loaded journal: %v", err)
		}
		again, err := s.Load()
		if err != nil {
			t.Fatalf("a saved journal does not load back: %v", err)
		}
		a, _ := json.Marshal(j)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Fatalf("the journal changed through save and load:\n%s\n%s", a, b)
		}
	})
}
