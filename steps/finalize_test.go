// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"slices"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/facts"
)

// withBootEnvs returns the example's facts with the boot environments bes.
func withBootEnvs(t *testing.T, bes ...facts.BootEnv) *facts.Facts {
	t.Helper()
	f := factsOf(t, "mirror-bios-uefi")
	f.BootEnvs.List = bes
	return f
}

// TestFinalizeRefusedWhileFallback: finalize is blocked while the old boot
// environment is still the fallback (a one-time activation, a running
// boot environment the next boot leaves, a trial the journal says is not
// committed), a warning with --yes, and allowed once committed.
func TestFinalizeRefusedWhileFallback(t *testing.T) {
	committed := []facts.BootEnv{{Name: "default", Created: "2026-01-01 10:00"}, {Name: "15.0-RELEASE", Active: true, OnReboot: true, Created: "2026-11-30 10:00"}}
	cases := []struct {
		name    string
		bes     []facts.BootEnv
		pending string
		yes     bool
		want    Verdict
		reason  string
	}{
		{"committed", committed, "", false, OK, "15.0-RELEASE runs"},
		{"pending trial boot", []facts.BootEnv{{Name: "default", Active: true, OnReboot: true}, {Name: "15.0-RELEASE", Temporary: true}}, "", false, Block, "15.0-RELEASE is activated for the next boot only"},
		{"on trial", []facts.BootEnv{{Name: "default", OnReboot: true}, {Name: "15.0-RELEASE", Active: true}}, "", false, Block, "is not the one the next boot uses (default)"},
		{"journal uncommitted", committed, "run X's trial of 15.0-RELEASE is not committed", false, Block, "not committed"},
		{"on trial, --yes", []facts.BootEnv{{Name: "default", OnReboot: true}, {Name: "15.0-RELEASE", Active: true}}, "", true, Warn, "--yes"},
	}
	for _, c := range cases {
		p := BuildFinalize(withBootEnvs(t, c.bes...), Options{Yes: c.yes, Now: planTime}, c.pending)
		got := p.check("trial-committed")
		if got.Verdict != c.want || !strings.Contains(got.Reason, c.reason) {
			t.Errorf("%s: %s %q, want %s containing %q", c.name, got.Verdict, got.Reason, c.want, c.reason)
		}
		if p.Blocked() != (c.want == Block) {
			t.Errorf("%s: blocked %v", c.name, p.Blocked())
		}
		if p.Mode != ModeFinalize || p.check("pool-health").ID == "" {
			t.Errorf("%s: mode %q, checks %v", c.name, p.Mode, p.Checks)
		}
	}
}

// TestFinalizeSteps: the steps in order, the pool step's boot code for
// every disk after its pool upgrade, and --keep's selection.
func TestFinalizeSteps(t *testing.T) {
	bes := []facts.BootEnv{
		{Name: "old-backup", Created: "2025-06-01 10:00"},
		{Name: "default", Created: "2024-01-01 10:00", OnReboot: false},
		{Name: "15.0-RELEASE", Active: true, OnReboot: true, Created: "2026-11-30 10:00"},
		{Name: "zupgrade-14.2-to-14.3", Created: "2026-05-01 10:00"},
	}
	f := withBootEnvs(t, bes...)
	p := BuildFinalize(f, Options{Keep: 2, Now: planTime}, "")
	var ids []string
	for _, s := range p.Steps {
		ids = append(ids, s.ID)
	}
	if want := []string{StepBootcode, StepZpoolUpgrade, StepZfsUpgrade, StepPrune}; !slices.Equal(ids, want) {
		t.Fatalf("finalize steps %v, want %v", ids, want)
	}
	zp := p.step(StepZpoolUpgrade).lines()
	if len(grepLines(zp, "zpool upgrade zroot")) != 1 || len(grepLines(zp, "gpart bootcode")) != len(grepLines(p.step(StepBootcode).lines(), "gpart bootcode")) || len(grepLines(zp, "gpart bootcode")) == 0 {
		t.Errorf("zpool-upgrade step:\n%s", strings.Join(zp, "\n"))
	}
	// Keep 2: the running one, then the newest other.
	if got, want := p.step(StepPrune).lines(), []string{"bectl destroy old-backup", "bectl destroy default"}; !slices.Equal(got, want) {
		t.Errorf("--keep 2 destroys %q, want %q", got, want)
	}
	if s := BuildFinalize(f, Options{Now: planTime}, "").step(StepPrune); s.Skip == "" || len(s.Commands) > 0 {
		t.Errorf("without --keep the prune step is %+v", s)
	}
	if s := BuildFinalize(f, Options{Keep: 4, Now: planTime}, "").step(StepPrune); s.Skip == "" {
		t.Errorf("--keep 4 of 4 destroys %v", s.lines())
	}
	// The boot environment the next boot uses is never destroyed either.
	f.BootEnvs.List[1].OnReboot, f.BootEnvs.List[2].OnReboot = true, false
	if got, want := BuildFinalize(f, Options{Keep: 1, Now: planTime}, "").step(StepPrune).lines(), []string{"bectl destroy zupgrade-14.2-to-14.3", "bectl destroy old-backup"}; !slices.Equal(got, want) {
		t.Errorf("--keep 1 with default the next boot's destroys %q, want %q", got, want)
	}
}

// TestTrialPending: a staged run whose commit step is not done is pending,
// with the reason its trial failed when it ended so.
func TestTrialPending(t *testing.T) {
	plan := &Plan{Steps: []Step{{ID: "trial-health"}, {ID: StepCommitBootEnv}}}
	j := NewJournal(plan, planTime)
	j.Status = StatusRebooting
	if got := j.TrialPending(); !strings.Contains(got, "has not committed its new boot environment (step commit-boot-env is pending") {
		t.Errorf("trial under way: %q", got)
	}
	if j.TrialFailure() != "" {
		t.Errorf("a run under way has a failed trial: %q", j.TrialFailure())
	}
	j.Status, j.Message = StatusFailed, "trial of 15.0-RELEASE failed: service sshd is not running"
	if got := j.TrialPending(); !strings.HasSuffix(got, "did not commit its new boot environment: trial of 15.0-RELEASE failed: service sshd is not running") {
		t.Errorf("failed trial: %q", got)
	}
	if j.TrialFailure() != j.Message {
		t.Errorf("TrialFailure %q", j.TrialFailure())
	}
	j.Message = "step trial-health: checking whether it is done: " + j.Message
	if want := "trial of 15.0-RELEASE failed: service sshd is not running"; j.TrialFailure() != want {
		t.Errorf("TrialFailure after the step's name %q, want %q", j.TrialFailure(), want)
	}
	j.Message = "step trial-health: exit 1"
	if j.TrialFailure() != "" {
		t.Errorf("another failure taken for the trial's: %q", j.TrialFailure())
	}
	j.Steps[1].State = StepDone
	if got := j.TrialPending(); got != "" {
		t.Errorf("committed: %q", got)
	}
	if got := NewJournal(&Plan{Steps: []Step{{ID: StepZpoolUpgrade}}}, planTime).TrialPending(); got != "" {
		t.Errorf("a run that is not staged: %q", got)
	}
}

// TestFinalizeStage: the lines a staged plan shows for finalize name it
// and its steps.
func TestFinalizeStage(t *testing.T) {
	lines := FinalizeStage(factsOf(t, "mirror-bios-uefi"), Options{Now: planTime})
	if len(lines) != 5 || !strings.Contains(lines[0], "zupgrade finalize") || !strings.Contains(lines[2], "pool features") {
		t.Errorf("finalize stage:\n%s", strings.Join(lines, "\n"))
	}
}
