// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestPruneRunLogsKeepsCurrent: the current run's log stays even when its
// ID sorts before the others' (a clock set back): it counts among the
// runs kept, and the oldest others go.
func TestPruneRunLogsKeepsCurrent(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"20200101T000000Z.json", "20250101T000000Z.json", "20250102T000000Z.json", "20250102T000000Z.json.1.gz", "20250103T000000Z.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := pruneRunLogs(dir, "20200101T000000Z", 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"20250101T000000Z.json"}; !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	if _, err := pruneRunLogs(filepath.Join(dir, "missing"), "20200101T000000Z", 3); err != nil {
		t.Errorf("a log directory that does not exist: %v", err)
	}
}
