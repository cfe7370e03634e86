// SPDX-License-Identifier: BSD-2-Clause

package steps_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// newStagedSimHost is a 14.3 BIOS+UEFI mirror with boot environments
// whose state directory is on the pool's root dataset (/zroot), outside
// the boot environments, where a staged run keeps its journal.
func newStagedSimHost(t *testing.T) *simHost {
	h := newSimHost(t, simhost.Spec{Preset: "bios+uefi", Release: "14.3-RELEASE-p3", Disks: 2, ESPs: "all"})
	h.store = steps.Store{Dir: filepath.Join(h.m.Root, "zroot", "zupgrade")}
	return h
}

// stagedPlan plans a staged upgrade to 15.0; the state directory's file
// system is what df names for /zroot (the cmd layer asks df for it).
func (h *simHost) stagedPlan(opts steps.Options) *steps.Plan {
	h.t.Helper()
	opts.To = "15.0-RELEASE"
	opts.StateDataset = "zroot"
	p := h.plan(opts)
	if p.Method != "staged" || p.Staged == nil {
		h.t.Fatalf("the plan is %s, not staged: %s", p.Method, p.MethodReason)
	}
	return p
}

// bectlList is bectl list -H on the host.
func (h *simHost) bectlList() string {
	h.t.Helper()
	out, err := host.Output(context.Background(), h.r, "bectl", "list", "-H")
	if err != nil {
		h.t.Fatal(err)
	}
	return string(out)
}

// TestEngineStagesUpgrade: the engine builds 15.0 in a new boot
// environment while 14.3 runs, reboots once into it on trial, finds it
// healthy and activates it for good; the pool's features stay as they
// were (they are finalize's), and a finalize run after it enables them,
// writes the boot code again and keeps one boot environment.
func TestEngineStagesUpgrade(t *testing.T) {
	t.Parallel()
	h := newStagedSimHost(t)
	p := h.stagedPlan(steps.Options{HealthCmd: []string{"cat", "/etc/rc.conf"}})
	for _, s := range p.Steps {
		if s.ID == "zpool-upgrade" || s.ID == "zfs-upgrade" {
			t.Errorf("the staged plan has the one-way step %s", s.ID)
		}
	}
	j := h.run(p, "", "")
	if j.Status != steps.StatusDone {
		t.Fatalf("status %s: %s\n%s", j.Status, j.Message, h.out.String())
	}
	if h.boots != 1 {
		t.Errorf("%d reboots, want 1: %v", h.boots, h.events)
	}
	if got := h.versions(); got != "15.0-RELEASE 15.0-RELEASE 15.0-RELEASE" {
		t.Errorf("freebsd-version -kru: %s", got)
	}
	if list := h.bectlList(); !strings.Contains(list, "15.0-RELEASE\tNR\t/\t") {
		t.Errorf("15.0-RELEASE is not active for good:\n%s", list)
	}
	if n := len(h.r.Commands("zpool upgrade zroot")) + len(h.r.Commands("zpool set feature@")); n != 0 {
		t.Errorf("the staged run touched the pool's features %d times", n)
	}
	if n := len(h.r.Commands("freebsd-update --not-running-from-cron -b /var/db/zupgrade-stage")); n < 2 {
		t.Errorf("freebsd-update ran %d times into the mounted boot environment, want upgrade and install", n)
	}

	// finalize, on the committed boot environment.
	f, err := facts.Gather(context.Background(), host.ReadOnlyRunner{Next: h.r})
	if err != nil {
		t.Fatal(err)
	}
	fp := steps.BuildFinalize(f, steps.Options{StateDir: h.store.Dir, Keep: 1, Now: p.Options.Now}, "")
	if fp.Blocked() {
		for _, c := range fp.Checks {
			if c.Verdict == steps.Block {
				t.Errorf("finalize check %s blocks: %s", c.ID, c.Reason)
			}
		}
		t.Fatal("finalize is blocked")
	}
	fj := h.run(fp, "", "")
	if fj.Status != steps.StatusDone {
		t.Fatalf("finalize: status %s: %s\n%s", fj.Status, fj.Message, h.out.String())
	}
	if len(h.r.Commands("zpool upgrade zroot"))+len(h.r.Commands("zpool set feature@")) == 0 {
		t.Errorf("finalize did not upgrade the pool: %v", h.r.Commands("zpool"))
	}
	if list := strings.TrimSpace(h.bectlList()); strings.Count(list, "\n") != 0 || !strings.HasPrefix(list, "15.0-RELEASE\t") {
		t.Errorf("finalize --keep 1 left:\n%s", list)
	}
	for _, d := range []string{"ada0", "ada1"} {
		rep, err := h.m.Boot(simhost.BootOptions{NoHooks: true, FirstDisk: d})
		if err != nil || !rep.Booted || rep.Kernel != "15.0-RELEASE" {
			t.Errorf("booting from %s: %v %+v", d, err, rep)
		}
	}
}

// TestEngineStagedTrialFails: the admin's health command fails in the
// trial; with AutoRevert the engine reboots at once, the old boot
// environment comes back, and the run there ends failed with the reason,
// its boot hook removed.
func TestEngineStagedTrialFails(t *testing.T) {
	t.Parallel()
	h := newStagedSimHost(t)
	p := h.stagedPlan(steps.Options{HealthCmd: []string{"cat", "/zroot/health-ok"}, AutoRevert: true})
	unlock, err := h.store.Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	j := steps.NewJournal(p, p.Options.Now)
	if err := h.store.Save(j); err != nil {
		t.Fatal(err)
	}
	// The run reboots into the trial, whose health check fails; it
	// reboots at once (AutoRevert) and stops with the failure there; the
	// old boot environment's hook resumes it once more.
	var failures []error
	resume := false
	for range 10 {
		out, err := h.apply(j, resume, nil)
		if err != nil {
			failures = append(failures, err)
			if len(failures) == 2 {
				break
			}
		} else if out != steps.Rebooting {
			t.Fatalf("apply ended %v before the trial failed\n%s", out, h.out.String())
		}
		h.boot()
		resume = true
		if j, err = h.store.Load(); err != nil {
			t.Fatal(err)
		}
	}
	if len(failures) != 2 {
		t.Fatalf("the run failed %d times, want in the trial and then in the old boot environment: %v\n%s", len(failures), failures, h.out.String())
	}
	if !strings.Contains(failures[0].Error(), "is not kept") {
		t.Errorf("the trial's failure does not say the trial is not kept: %v", failures[0])
	}
	var tf *steps.TrialFailedError
	if !errors.As(failures[1], &tf) {
		t.Fatalf("the old boot environment's run ended with %v, want a failed trial\n%s", failures[1], h.out.String())
	}
	if !strings.Contains(tf.Why, "/zroot/health-ok") {
		t.Errorf("the reason does not name the health command: %q", tf.Why)
	}
	if h.boots != 2 {
		t.Errorf("%d boots, want 2 (the trial and the way back): %v", h.boots, h.events)
	}
	if got := h.versions(); got != "14.3-RELEASE-p3 14.3-RELEASE-p3 14.3-RELEASE-p3" {
		t.Errorf("after the fallback freebsd-version -kru: %s", got)
	}
	saved, err := h.store.Load()
	if err != nil {
		t.Fatal(err)
	}
	if saved.Status != steps.StatusFailed || saved.TrialFailure() == "" {
		t.Errorf("the journal says %s: %q", saved.Status, saved.Message)
	}
	if len(h.r.Commands("sysrc -f /etc/rc.conf.d/zupgrade -x")) == 0 {
		t.Errorf("the old boot environment kept its boot hook")
	}
}
