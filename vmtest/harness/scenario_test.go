// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestShippedScenariosLoad: every shipped scenario is valid, and the set
// holds the scenarios vmtest promises.
func TestShippedScenariosLoad(t *testing.T) {
	scs := loadScenarios(t)
	have := map[string]bool{}
	for _, sc := range scs {
		have[sc.Name] = true
	}
	for _, want := range []string{"bios-mirror-major", "cut-mid-install-2", "cut-after-journal-write", "patch-update",
		"disk-removed-after-upgrade", "disk-dies-replaced", "uefi-3way-through-en-25-18", "every-step-cut", "disk-gone-at-final-check"} {
		if !have[want] {
			t.Errorf("scenario %s is missing from %s", want, scenarioDir)
		}
	}
}

// TestScenarioMistakes: a scenario with a mistake is refused with an
// error that says what to fix.
func TestScenarioMistakes(t *testing.T) {
	base := `"description": "d", "machine": {"preset": "bios", "release": "13.4-RELEASE", "disks": 2}`
	exp := `"expect": {"kernel": "14.2-RELEASE", "world": "14.2-RELEASE", "pool": "ONLINE", "journal": "done"}`
	tests := []struct{ name, body, want string }{
		{"unknown-field", `{` + base + `, "runs": [{"apply": []}], "reboots": 2, ` + exp + `}`, `unknown field "reboots"`},
		{"no-runs", `{` + base + `, "runs": [], ` + exp + `}`, "runs is empty"},
		{"state-dir", `{` + base + `, "runs": [{"apply": ["--state-dir", "/x"]}], ` + exp + `}`, "--state-dir is the harness's"},
		{"state-dir-relative", `{` + base + `, "state_dir": "zroot/zupgrade", "runs": [{"apply": []}], ` + exp + `}`, "state_dir \"zroot/zupgrade\": give an absolute"},
		{"bad-kind", `{` + base + `, "runs": [{"apply": []}], "faults": [{"kind": "flood"}], ` + exp + `}`, `kind "flood"`},
		{"bad-point", `{` + base + `, "runs": [{"apply": []}], "faults": [{"kind": "sigkill", "point": "upgrade:during"}], ` + exp + `}`, "STEP:before-start"},
		{"point-run", `{` + base + `, "runs": [{"apply": []}], "faults": [{"kind": "power-cut", "point": "upgrade:after-run", "run": 1}], ` + exp + `}`, "runs 0 to 0"},
		{"sigkill-command", `{` + base + `, "runs": [{"apply": []}], "faults": [{"kind": "sigkill", "command": "gpart"}], ` + exp + `}`, "sigkill needs a point"},
		{"unknown-disk", `{` + base + `, "runs": [{"apply": []}], "faults": [{"kind": "remove-disk", "disk": "ada7", "before_boot": 1}], ` + exp + `}`, `disk "ada7" is not one of`},
		{"replace-at-0", `{` + base + `, "runs": [{"apply": []}], "faults": [{"kind": "replace-disk", "disk": "ada1"}], ` + exp + `}`, "a disk is replaced before a run"},
		{"remove-negative", `{` + base + `, "runs": [{"apply": []}], "faults": [{"kind": "remove-disk", "disk": "ada1", "before_boot": -1}], ` + exp + `}`, "before_boot must be 0"},
		{"bad-release", `{` + base + `, "runs": [{"apply": []}], "expect": {"kernel": "fourteen", "world": "14.2-RELEASE", "pool": "ONLINE", "journal": "done"}}`, "expect.kernel"},
		{"bad-pool", `{` + base + `, "runs": [{"apply": []}], "expect": {"kernel": "14.2-RELEASE", "world": "14.2-RELEASE", "pool": "FINE", "journal": "done"}}`, "expect.pool"},
		{"spec-faults", `{"description": "d", "machine": {"preset": "bios", "faults": [{"action": "hang"}]}, "runs": [{"apply": []}], ` + exp + `}`, "put faults in the scenario's faults"},
		{"replace-before-run-0", `{` + base + `, "runs": [{"apply": []}, {"apply": []}], "faults": [{"kind": "replace-disk", "disk": "ada1", "before_run": 2}], ` + exp + `}`, "before_run 2: give one of runs 1 to 1"},
		{"remove-before-run", `{` + base + `, "runs": [{"apply": []}, {"apply": []}], "faults": [{"kind": "remove-disk", "disk": "ada1", "before_run": 1}], ` + exp + `}`, "before_run is only for replace-disk"},
		{"remove-at-command-point", `{` + base + `, "runs": [{"apply": []}], "faults": [{"kind": "remove-disk", "disk": "ada1", "command": "dd", "point": "upgrade:after-run"}], ` + exp + `}`, "takes command, args, after and before_boot"},
		{"bootcode-on-remove", `{` + base + `, "runs": [{"apply": []}], "faults": [{"kind": "remove-disk", "disk": "ada1", "before_boot": 1, "bootcode": true}], ` + exp + `}`, "bootcode and labels are only for replace-disk"},
		{"labels-on-remove", `{` + base + `, "runs": [{"apply": []}], "faults": [{"kind": "remove-disk", "disk": "ada1", "before_boot": 1, "labels": true}], ` + exp + `}`, "bootcode and labels are only for replace-disk"},
		{"point-run-and-boot", `{` + base + `, "runs": [{"apply": []}, {"apply": []}], "faults": [{"kind": "power-cut", "point": "upgrade:after-run", "run": 1, "boot": 1}], ` + exp + `}`, "either a run or a boot"},
		{"matrix-faults", `{` + base + `, "runs": [{"apply": []}, {"apply": []}], "matrix": {"steps": "every", "point": "after-started"}, "faults": [{"kind": "power-cut", "command": "gpart"}], ` + exp + `}`, "takes no faults of its own"},
		{"matrix-point", `{` + base + `, "runs": [{"apply": []}, {"apply": []}], "matrix": {"steps": "every", "point": "during"}, ` + exp + `}`, `matrix.point "during"`},
		{"matrix-steps", `{` + base + `, "runs": [{"apply": []}, {"apply": []}], "matrix": {"steps": "all", "point": "after-run"}, ` + exp + `}`, `matrix.steps "all"`},
		{"matrix-one-run", `{` + base + `, "runs": [{"apply": []}], "matrix": {"steps": ["upgrade"], "point": "after-run"}, ` + exp + `}`, "needs a second run"},
		{"boots-when-failed", `{` + base + `, "runs": [{"apply": []}], "expect": {"kernel": "14.2-RELEASE", "world": "14.2-RELEASE", "pool": "ONLINE", "journal": "failed", "boots_from_each_disk": true}}`, "need journal done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), tt.name+".json")
			if err := os.WriteFile(p, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	p := filepath.Join(t.TempDir(), "Bad_Name.json")
	os.WriteFile(p, []byte(`{`+base+`, "runs": [{"apply": []}], `+exp+`}`), 0o644)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "lower-case") {
		t.Errorf("a badly named file: %v", err)
	}
}

// TestExpectCheck: each expectation fails on the outcome that breaks it.
func TestExpectCheck(t *testing.T) {
	two := 2
	e := Expect{Kernel: "14.2-RELEASE", World: "14.2-RELEASE", Pool: "ONLINE", Journal: "done", BootCodeEveryMember: true, BootsFromEachDisk: true, Boots: &two}
	good := Outcome{Kernel: "14.2-RELEASE-p1", World: "14.2-RELEASE", Pool: "ONLINE", Journal: "done",
		BootCode: []string{"ada0p1 current", "ada1p1 current"}, DiskBoots: []string{"ada0: 14.2-RELEASE via ada0", "ada1: 14.2-RELEASE via ada1"}}
	if bad := e.Check(&good, 2); len(bad) != 0 {
		t.Fatalf("a good outcome fails: %v", bad)
	}
	tests := []struct {
		name  string
		edit  func(o *Outcome)
		boots int
		want  string
	}{
		{"kernel", func(o *Outcome) { o.Kernel = "13.4-RELEASE" }, 2, "kernel 13.4-RELEASE"},
		{"world", func(o *Outcome) { o.World = "13.4-RELEASE" }, 2, "world 13.4-RELEASE"},
		{"pool", func(o *Outcome) { o.Pool = "DEGRADED" }, 2, "pool DEGRADED"},
		{"journal", func(o *Outcome) { o.Journal = "failed" }, 2, `journal "failed"`},
		{"hook", func(o *Outcome) { o.HookLeft = true }, 2, "boot hook is still installed"},
		{"stale", func(o *Outcome) { o.BootCode[1] = "ada1p1 stale" }, 2, "boot code: ada1p1 stale"},
		{"no-code", func(o *Outcome) { o.BootCode = nil }, 2, "no boot code"},
		{"other-disk", func(o *Outcome) { o.DiskBoots[1] = "ada1: 14.2-RELEASE via ada0" }, 2, "boot from ada1"},
		{"no-boot", func(o *Outcome) { o.DiskBoots[0] = "ada0: does not boot: ZFS: unsupported feature" }, 2, "boot from ada0"},
		{"boots", func(o *Outcome) {}, 3, "3 boots, want 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			o.BootCode = append([]string(nil), good.BootCode...)
			o.DiskBoots = append([]string(nil), good.DiskBoots...)
			tt.edit(&o)
			bad := e.Check(&o, tt.boots)
			if !strings.Contains(strings.Join(bad, "\n"), tt.want) {
				t.Errorf("Check = %v, want %q", bad, tt.want)
			}
		})
	}
}

// TestMatrixExpand: a matrix rule makes one cell per step the plan runs,
// the crash point in run 0 before the first checkpoint and in the run the
// boot hook resumes after it; a step the reference run found done has a
// skipped cell; a listed step the plan lacks is an error.
func TestMatrixExpand(t *testing.T) {
	two := 2
	sc := &Scenario{Name: "m", Description: "d", Machine: simhostSpecBIOS(),
		Runs:   []Run{{Apply: []string{"--to", "14.2-RELEASE"}}, {UnlessDone: true}},
		Matrix: &Matrix{Steps: []byte(`"every"`), Point: "after-started"},
		Expect: Expect{Kernel: "14.2-RELEASE", World: "14.2-RELEASE", Pool: "ONLINE", Journal: "done", Boots: &two}}
	plan := []planStep{{ID: "preflight"}, {ID: "quirk", Skip: "not needed"}, {ID: "install-kernel"}, {ID: "reboot-kernel", Checkpoint: true},
		{ID: "install-world"}, {ID: "zfs-upgrade", Skip: "the run finds it already in effect on the host when it gets there"}, {ID: "reboot-final", Checkpoint: true}}
	cells, err := sc.expand(plan)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cells {
		f := c.Faults[0]
		got = append(got, fmt.Sprintf("%s %s %s run %d boot %d skip %v", c.Name, f.Kind, f.Point, f.Run, f.Boot, c.Skip != ""))
		if c.Expect.Boots != nil || c.Matrix != nil {
			t.Errorf("%s: boots %v, matrix %v: a cell counts its own boots and is no matrix", c.Name, c.Expect.Boots, c.Matrix)
		}
	}
	want := []string{
		"m--preflight power-cut preflight:after-started run 0 boot 0 skip false",
		"m--install-kernel power-cut install-kernel:after-started run 0 boot 0 skip false",
		"m--reboot-kernel power-cut reboot-kernel:after-started run 0 boot 0 skip false",
		"m--install-world power-cut install-world:after-started run 0 boot 1 skip false",
		"m--zfs-upgrade power-cut zfs-upgrade:after-started run 0 boot 1 skip true",
		"m--reboot-final power-cut reboot-final:after-started run 0 boot 1 skip false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("cells:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if sc.Expect.Boots == nil || sc.Matrix == nil {
		t.Error("expanding changed the matrix scenario itself")
	}
	sc.Matrix = &Matrix{Steps: []byte(`["install-world", "bootcode"]`), Point: "after-run", Kind: KindSIGKILL}
	if _, err := sc.expand(plan); err == nil || !strings.Contains(err.Error(), `matrix step "bootcode" is not a step the plan runs`) {
		t.Errorf("a listed step the plan lacks: %v", err)
	}
}

func simhostSpecBIOS() simhost.Spec {
	return simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", Disks: 2}
}
