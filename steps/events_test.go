// SPDX-License-Identifier: BSD-2-Clause

package steps_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zupgrade/zupgrade/bootenv"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/progress"
	"github.com/zupgrade/zupgrade/steps"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestApplyEventsGolden runs two steps of the benchmark's plan, one whose
// effect is there already and one that runs, on a clock that stands still,
// and compares the JSON Lines document of the run's events with
// testdata/apply-events.jsonl as a whole.
func TestApplyEventsGolden(t *testing.T) {
	p := engineBenchPlan(t)
	p.Steps = p.Steps[:2]
	h := engineBenchHost(false)
	// The backup exists already: its step is skipped.
	list := host.QuoteArgs(bootenv.ListArgs())
	h.answers[list] = engineBenchHost(true).answers[list]
	var out bytes.Buffer
	eng := &steps.Engine{Runner: h, Store: steps.Store{Dir: t.TempDir()}, Events: progress.NewJSONLines(&out), Now: func() time.Time { return journalTime }}
	j := steps.NewJournal(p, journalTime)
	if o, err := eng.Apply(context.Background(), j); err != nil || o != steps.Finished {
		t.Fatalf("Apply = %v, %v", o, err)
	}
	golden := filepath.Join("testdata", "apply-events.jsonl")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(jsonLines(t, want), jsonLines(t, out.Bytes())); d != "" {
		t.Errorf("events (-%s +got):\n%s", golden, d)
	}
}

func jsonLines(t *testing.T, data []byte) []any {
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
