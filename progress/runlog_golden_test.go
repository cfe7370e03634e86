// SPDX-License-Identifier: BSD-2-Clause

package progress

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/charmbracelet/log"
	"github.com/google/go-cmp/cmp"
)

// TestRunLogGolden compares the whole run log of a run (its records
// without the time, which the logger takes from the clock) with
// testdata/runlog.jsonl, record by record: go test -run TestRunLogGolden
// -update rewrites it; review the diff.
func TestRunLogGolden(t *testing.T) {
	var out bytes.Buffer
	render(RunLog{Log: log.NewWithOptions(&out, log.Options{Formatter: log.JSONFormatter})})
	golden := filepath.Join("testdata", "runlog.jsonl")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	got := decodeLines(t, out.Bytes())
	for _, rec := range got {
		if rec.(map[string]any)["version"] != float64(RunLogVersion) {
			t.Errorf("record without version %d: %v", RunLogVersion, rec)
		}
	}
	if d := cmp.Diff(decodeLines(t, want), got); d != "" {
		t.Errorf("run log (-%s +got):\n%s", golden, d)
	}
}
