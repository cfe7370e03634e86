// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/steps"
)

// jsonTimes are the times a JSON document of a command holds that depend
// on when it ran: RFC 3339 times and the plan time in backup names.
var jsonTimes = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)|\d{8}T\d{6}Z?`)

// jsonGoldenCases are the example captures the JSON goldens are made of,
// with the target release their plan is interesting for.
var jsonGoldenCases = []struct{ capture, to string }{
	{"mirror-bios-uefi", "14.2-RELEASE"},
	{"legacy-8.2", "9.0-RELEASE"},
	{"uefi-nda-mirror", "15.0-RELEASE"},
	{"degraded-mirror", "14.2-RELEASE"},
}

// TestJSONGolden compares the whole documents of inspect --json, plan
// --json and status --json (docs/inspect-json.md, plan-json.md,
// status-json.md) for example hosts with testdata/golden/NAME.COMMAND.json,
// as decoded JSON (order and repetition of every array count): go test
// -run TestJSONGolden -update rewrites them; review the diff.
func TestJSONGolden(t *testing.T) {
	for _, c := range jsonGoldenCases {
		t.Run(c.capture, func(t *testing.T) {
			capture := filepath.Join("..", "..", "examples", c.capture+".txtar")
			state := t.TempDir()
			run := func(args ...string) []byte {
				t.Helper()
				var out, errb bytes.Buffer
				env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: []string{"ZUPGRADE_STATE_DIR=/var/db/zupgrade"}}
				if args[0] == "status" {
					// status reads the state directory and asks kenv
					// for the root, which the capture answers.
					data, err := os.ReadFile(capture)
					if err != nil {
						t.Fatal(err)
					}
					if env.Runner, err = host.ParseCapture(capture, data); err != nil {
						t.Fatal(err)
					}
					args = append(args, "--state-dir", state)
				}
				code := Main(context.Background(), append([]string{"zupgrade"}, args...), env)
				if code != ExitOK && code != ExitBlocked {
					t.Fatalf("zupgrade %v: exit %d: %s", args, code, errb.String())
				}
				return out.Bytes()
			}
			compareJSON(t, c.capture+".inspect.json", run("inspect", "--json", "--replay", capture))
			planDoc := run("plan", "--json", "--replay", capture, "--to", c.to)
			compareJSON(t, c.capture+".plan.json", planDoc)

			compareJSON(t, "none.status.json", run("status", "--json"))
			// A run that has done its first steps and failed in the
			// next (it stays started): the journal made of the plan above.
			p, err := steps.ReadPlan(planDoc)
			if err != nil {
				t.Fatalf("the plan does not read back: %v", err)
			}
			j := steps.NewJournal(p, time.Date(2026, 11, 26, 13, 5, 9, 0, time.UTC))
			for i := range j.Steps {
				switch {
				case i < 2:
					j.Steps[i].State = steps.StepDone
				case i == 2:
					j.Steps[i].State, j.Steps[i].Attempts, j.Steps[i].Note = steps.StepStarted, 1, "exit 1"
					j.Status, j.Message = steps.StatusFailed, "step "+j.Steps[i].ID+" failed"
				}
			}
			if err := (steps.Store{Dir: state}).Save(j); err != nil {
				t.Fatal(err)
			}
			compareJSON(t, c.capture+".status.json", run("status", "--json"))
		})
	}
}

// compareJSON compares doc, with its times replaced (jsonTimes), with
// testdata/golden/name as decoded JSON documents, rewriting the golden
// file with -update.
func compareJSON(t *testing.T, name string, doc []byte) {
	t.Helper()
	doc = jsonTimes.ReplaceAll(doc, []byte("TIME"))
	golden := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(golden, doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	var want, got any
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("%s: %v", golden, err)
	}
	if err := json.Unmarshal(doc, &got); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, doc)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s differs (-golden +now; run with -update after checking it):\n%s", golden, d)
	}
}
