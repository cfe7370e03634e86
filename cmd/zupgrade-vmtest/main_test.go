// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/harness"
)

const shipped = "../../vmtest/testdata/scenarios"

// scenarioDir writes a scenario directory: the shipped patch-update, the
// same with a wrong expectation (it must fail), and a UEFI-only machine
// (skipped under --firmware bios).
func scenarioDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(shipped, "patch-update.json"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("patch-update", data)
	write("patch-update-wrong", bytes.Replace(data, []byte(`"kernel": "14.3-RELEASE-p6"`), []byte(`"kernel": "14.3-RELEASE-p7"`), 1))
	write("uefi-only", []byte(`{"description": "A UEFI-only machine.", "machine": {"preset": "uefi", "release": "14.3-RELEASE", "disks": 2},
		"runs": [{"apply": []}], "expect": {"kernel": "14.3-RELEASE", "world": "14.3-RELEASE", "pool": "ONLINE", "journal": "done"}}`))
	return dir
}

// TestInProcessSuite: the command runs the selected scenarios on the
// in-process back-end, says PASS, FAIL and SKIP, exits 1 as one failed,
// closes with the counts, writes JUnit and JSON reports, and keeps only
// the failed scenario's artefacts.
func TestInProcessSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("whole upgrades; not in -short")
	}
	dir := scenarioDir(t)
	work := t.TempDir()
	junit, jsonFile := filepath.Join(work, "junit.xml"), filepath.Join(work, "report.json")
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"--backend", "in-process", "--scenarios", dir, "--firmware", "bios",
		"--junit", junit, "--json", jsonFile, "--workdir", filepath.Join(work, "runs"), "patch-*", "-parallel", "2", "uefi-only"}, &stdout, &stderr)
	out := stdout.String()
	if code != 1 {
		t.Fatalf("exit %d, want 1 (one scenario fails)\nstdout:\n%s\nstderr:\n%s", code, out, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != "1 passed, 1 failed, 1 skipped" {
		t.Errorf("closing line %q\n%s", last, out)
	}
	for _, want := range []string{"PASS patch-update in-process:", "FAIL patch-update-wrong in-process: kernel 14.3-RELEASE-p6, want 14.3-RELEASE-p7",
		"SKIP uefi-only: the machine (preset uefi) does not boot with bios"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	var rep harness.SuiteResult
	data, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Passed != 1 || rep.Failed != 1 || rep.Skipped != 1 || len(rep.Results) != 3 {
		t.Fatalf("JSON report: %+v", rep)
	}
	for _, r := range rep.Results {
		switch r.Name {
		case "patch-update":
			if r.Status != "passed" || r.Boots != 1 || r.Artefacts != "" || r.Outcome == nil || r.Outcome.Kernel != "14.3-RELEASE-p6" {
				t.Errorf("patch-update: %+v", r)
			}
		case "patch-update-wrong":
			if r.Status != "failed" || r.Artefacts == "" || r.Log == "" {
				t.Errorf("patch-update-wrong: %+v", r)
			} else if _, err := os.Stat(filepath.Join(r.Artefacts, "root")); err != nil {
				t.Errorf("the failed scenario's machine is not kept: %v", err)
			}
		case "uefi-only":
			if r.Status != "skipped" {
				t.Errorf("uefi-only: %+v", r)
			}
		}
	}
	data, err = os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var ju struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Skipped  int `xml:"skipped,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &ju); err != nil {
		t.Fatalf("JUnit: %v\n%s", err, data)
	}
	if len(ju.Suites) != 1 || ju.Suites[0].Tests != 3 || ju.Suites[0].Failures != 1 || ju.Suites[0].Skipped != 1 {
		t.Fatalf("JUnit counts:\n%s", data)
	}
	for _, c := range ju.Suites[0].Cases {
		if (c.Name == "patch-update-wrong") != (c.Failure != nil) || (c.Name == "uefi-only") != (c.Skipped != nil) {
			t.Errorf("JUnit case %s: failure %v, skipped %v", c.Name, c.Failure != nil, c.Skipped != nil)
		}
	}
}

// TestUsageMistakes: bad usage exits 2 with a message that says what to
// give, before building or running anything.
func TestUsageMistakes(t *testing.T) {
	dir := scenarioDir(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--scenarios", dir, "patch-update", "no-such", "-parallel", "2"}, `no scenario matches "no-such" (there are: patch-update-wrong, patch-update, uefi-only)`},
		{[]string{"--scenarios", dir, "patch-update", "-parallel", "0"}, "-parallel 0: give 1 or more"},
		{[]string{"--scenarios", t.TempDir()}, "no scenarios (*.json)"},
		{[]string{"--scenarios", dir, "--backend", "in-process", "--image", "x.qcow2"}, "--image goes with --backend image"},
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"--scenarios", dir, "--image", filepath.Join(dir, "none.qcow2")}, "--image: stat"},
		{[]string{"--scenarios", dir, "--image", filepath.Join(dir, "patch-update.json")}, "the release is not in the file name"},
		{[]string{"--scenarios", dir, "--image", filepath.Join(dir, "patch-update.json"), "--image-release", "14.3-RELEASE", "--hypervisor", "xen"}, `--hypervisor "xen": want qemu or bhyve`},
		{[]string{"--scenarios", dir, "--backend", "in-process", "--firmware", "coreboot"}, `--firmware "coreboot": want bios, uefi or both`},
		{[]string{"--scenarios", dir, "--keep", "some"}, `--keep "some": want fail, always or never`},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if code := Main(context.Background(), tt.args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2", tt.args, code)
		}
		if !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: stderr %q, want %q", tt.args, stderr.String(), tt.want)
		}
	}
}

// TestLinuxGuestSuite: the command runs a scenario in the Linux guest
// under QEMU and passes it (a failure in CI when QEMU is missing).
func TestLinuxGuestSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("boots Linux guests under QEMU; not in -short")
	}
	if missing := harness.MissingGuestTools(); len(missing) > 0 {
		msg := "the Linux guest needs: " + strings.Join(missing, ", ")
		if os.Getenv(harness.CIEnv) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"--scenarios", shipped, "--workdir", t.TempDir(), "patch-update"}, &stdout, &stderr)
	out := stdout.String()
	t.Log(out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr.String())
	}
	for _, want := range []string{"vmtest: linux guest, accelerator TCG", "PASS patch-update linux-guest/TCG: ", "1 passed, 0 failed, 0 skipped"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}
