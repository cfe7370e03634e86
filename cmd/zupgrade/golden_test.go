// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// timestamps are the plan times in backup names.
var timestamps = regexp.MustCompile(`\d{8}T\d{6}`)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestPlanGolden renders the plan of every example capture and compares it
// with testdata/golden/NAME.txt (go test -run TestPlanGolden -update
// rewrites them). The target release of each example is the one its plan is
// interesting for.
func TestPlanGolden(t *testing.T) {
	targets := map[string]string{
		"bios-mirror":             "14.2-RELEASE",
		"crossed-labels":          "14.3-RELEASE",
		"degraded-mirror":         "14.2-RELEASE",
		"fifteen-from-14.3-no-en": "15.0-RELEASE",
		"legacy-8.2":              "9.0-RELEASE",
		"mirror-bios-uefi":        "14.2-RELEASE",
		"single-disk":             "14.3-RELEASE",
		"uefi-nda-mirror":         "15.0-RELEASE",
	}
	captures, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.txtar"))
	if len(captures) != len(targets) {
		t.Fatalf("%d example captures, %d targets: keep them in step", len(captures), len(targets))
	}
	for _, c := range captures {
		name := strings.TrimSuffix(filepath.Base(c), ".txtar")
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: []string{"ZUPGRADE_STATE_DIR=/var/db/zupgrade"}}
			code := Main(context.Background(), []string{"zupgrade", "plan", "--replay", c, "--to", targets[name]}, env)
			if code != ExitOK && code != ExitBlocked {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			got := timestamps.ReplaceAll(out.Bytes(), []byte("TIME"))
			golden := filepath.Join("testdata", "golden", name+".txt")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				t.Errorf("plan differs from %s (-golden +now; run with -update after checking it):\n%s", golden, d)
			}
		})
	}
}
