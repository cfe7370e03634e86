// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestProductionBuildHasNoCrashHook: the crash hook (ZUPGRADE_CRASH_AT) is
// only in binaries built with the zupgrade_crashtest tag, as the tests
// build it; a production build does not even know the variable's name.
func TestProductionBuildHasNoCrashHook(t *testing.T) {
	if testing.Short() {
		t.Skip("builds zupgrade: not in -short")
	}
	prod := filepath.Join(t.TempDir(), "zupgrade")
	if out, err := exec.Command("go", "build", "-o", prod, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	test, _ := binaries(t)
	for _, b := range []struct {
		path string
		want bool
	}{{prod, false}, {test, true}} {
		data, err := os.ReadFile(b.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.Contains(data, []byte("ZUPGRADE_CRASH_AT")); got != b.want {
			t.Errorf("%s holds ZUPGRADE_CRASH_AT: %v, want %v", b.path, got, b.want)
		}
	}
}
