// SPDX-License-Identifier: BSD-2-Clause

package steps_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	charmlog "github.com/charmbracelet/log"

	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/progress"
	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
	"github.com/zupgrade/zupgrade/vmtest/simrun"
)

// TestEngineUpgradesMirror: a whole upgrade of a BIOS+UEFI mirror, in
// process: every step runs, the host reboots twice, ends on the new
// release with the pool upgraded, and every disk boots.
func TestEngineUpgradesMirror(t *testing.T) {
	t.Parallel()
	h := newSimHost(t, simhost.Spec{Preset: "bios+uefi", Release: "13.4-RELEASE", Disks: 2, ESPs: "all"})
	p := h.plan(steps.Options{To: "14.2-RELEASE"})
	j := h.run(p, "", "")
	if j.Status != steps.StatusDone {
		t.Fatalf("status %s: %s", j.Status, j.Message)
	}
	if got := h.versions(); got != "14.2-RELEASE 14.2-RELEASE 14.2-RELEASE" {
		t.Errorf("freebsd-version -kru: %s", got)
	}
	if h.boots != 2 {
		t.Errorf("%d reboots, want 2: %v", h.boots, h.events)
	}
	for _, r := range j.Steps {
		if r.State != steps.StepDone && r.State != steps.StepSkipped {
			t.Errorf("step %s is %s", r.ID, r.State)
		}
	}
	if n := len(h.r.Commands("gpart bootcode")); n < 4 {
		t.Errorf("gpart bootcode ran %d times, want twice per disk (bootcode and zpool-upgrade steps)", n)
	}
	if len(h.r.Commands("zpool upgrade zroot")) == 0 && len(h.r.Commands("zpool set feature@")) == 0 {
		t.Errorf("the pool was not upgraded: %v", h.r.Commands("zpool"))
	}
	for _, d := range []string{"ada0", "ada1"} {
		rep, err := h.m.Boot(simhost.BootOptions{NoHooks: true, FirstDisk: d})
		if err != nil || !rep.Booted {
			t.Errorf("booting from %s: %v %+v", d, err, rep)
		}
	}
	if !strings.Contains(h.out.String(), "[13/13] Final reboot and verification") {
		t.Errorf("the output does not show the last step:\n%s", h.out.String())
	}
	if hooks := h.r.Commands("sysrc -f /etc/rc.conf.d/zupgrade -x zupgrade_enable zupgrade_state_dir zupgrade_log_dir"); len(hooks) != 1 {
		t.Errorf("the boot hook was removed %d times at the end, want once", len(hooks))
	}
}

// TestEnginePatches: a patch run fetches, backs up, installs, and reboots
// when the kernel changed; planned and run again, nothing is installed.
func TestEnginePatches(t *testing.T) {
	t.Parallel()
	h := newSimHost(t, simhost.Spec{Preset: "uefi", Release: "14.1-RELEASE", Disks: 2, Updates: map[string]int{"14.1-RELEASE": 6}})
	p := h.plan(steps.Options{})
	j := h.run(p, "", "")
	if j.Status != steps.StatusDone {
		t.Fatalf("status %s: %s", j.Status, j.Message)
	}
	if len(h.r.Commands("freebsd-update --not-running-from-cron fetch")) != 1 || len(h.r.Commands("freebsd-update --not-running-from-cron install")) != 1 {
		t.Errorf("fetch and install ran %v", h.r.Commands("freebsd-update --not"))
	}
	if got := h.versions(); got != "14.1-RELEASE-p6 14.1-RELEASE-p6 14.1-RELEASE-p6" {
		t.Errorf("freebsd-version -kru: %s", got)
	}
	// Planned again, there is nothing to do.
	h.r = &simrun.Runner{M: h.m}
	j = h.run(h.plan(steps.Options{}), "", "")
	if j.Status != steps.StatusDone {
		t.Fatalf("second run: status %s: %s", j.Status, j.Message)
	}
	if got := h.r.Commands("freebsd-update --not-running-from-cron install"); len(got) != 0 {
		t.Errorf("the second run installed again: %v", got)
	}
}

// TestEngineResumesAfterCrash: a run killed at a point of a step and
// started again from its journal goes on and ends on the new release, the
// step's effect made once.
func TestEngineResumesAfterCrash(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		step  string
		point steps.CrashPoint
	}{
		{steps.StepBackup, steps.AfterRun},
		{steps.StepInstallKern, steps.AfterStarted},
		{steps.StepBootcode, steps.AfterRun},
		{steps.StepRebootKernel, steps.AfterStarted},
		{steps.StepPackages, steps.BeforeStart},
		{steps.StepZpoolUpgrade, steps.AfterRun},
	} {
		t.Run(c.step+"/"+string(c.point), func(t *testing.T) {
			t.Parallel()
			h := newSimHost(t, simhost.Spec{Preset: "bios+uefi", Release: "13.4-RELEASE", Disks: 2, ESPs: "all"})
			p := h.plan(steps.Options{To: "14.2-RELEASE"})
			j := h.run(p, c.step, c.point)
			if j.Status != steps.StatusDone {
				t.Fatalf("status %s: %s", j.Status, j.Message)
			}
			if got := h.versions(); got != "14.2-RELEASE 14.2-RELEASE 14.2-RELEASE" {
				t.Errorf("freebsd-version -kru: %s", got)
			}
			if n := len(h.r.Commands("bectl create")); n != 1 {
				t.Errorf("the backup was made %d times", n)
			}
			r := j.Record(c.step)
			if c.point != steps.BeforeStart && c.point != steps.AfterStarted && r.Note != "already in effect on the host" {
				t.Errorf("step %s after the crash: %+v; want it found done", c.step, r)
			}
		})
	}
}

// TestEngineStopsAtCheckpoint: with NoReboot the run stops at the first
// checkpoint with the boot hook installed; after a reboot it goes on.
func TestEngineStopsAtCheckpoint(t *testing.T) {
	t.Parallel()
	h := newSimHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE"})
	p := h.plan(steps.Options{To: "14.2-RELEASE"})
	if err := h.store.EnsureDir(); err != nil {
		t.Fatal(err)
	}
	j := steps.NewJournal(p, p.Options.Now)
	j.NoReboot = true
	var log bytes.Buffer
	e := h.engine(false, nil)
	e.Events = progress.Tee(e.Events, progress.RunLog{Log: charmlog.New(&log)})
	out, err := e.Apply(context.Background(), j)
	if err != nil || out != steps.Stopped {
		t.Fatalf("Apply = %v, %v; want Stopped\n%s", out, err, h.out.String())
	}
	if j.Status != steps.StatusCheckpoint || j.Current().ID != steps.StepRebootKernel {
		t.Errorf("status %s at %s", j.Status, j.Current().ID)
	}
	if len(h.r.Commands("shutdown")) != 0 {
		t.Error("the host was rebooted")
	}
	if len(h.r.Commands("sysrc -f /etc/rc.conf.d/zupgrade zupgrade_enable=YES zupgrade_state_dir=")) != 1 {
		t.Errorf("the boot hook was not enabled: %v", h.r.Commands("sysrc"))
	}
	if !strings.Contains(log.String(), "step=install-kernel") {
		t.Errorf("the run log does not record the steps:\n%s", log.String())
	}
	// Apply again without a reboot: the checkpoint is still to come.
	out, err = h.engine(false, nil).Apply(context.Background(), j)
	if err != nil || out != steps.Stopped {
		t.Fatalf("Apply again = %v, %v", out, err)
	}
	h.boot()
	out, err = h.engine(true, nil).Apply(context.Background(), j)
	if err != nil || out != steps.Stopped {
		t.Fatalf("after the reboot: Apply = %v, %v\n%s", out, err, h.out.String())
	}
	if j.Current().ID != steps.StepRebootFinal {
		t.Errorf("after the reboot the run stops at %s", j.Current().ID)
	}
}

// TestEngineFailures: a step that fails stops the run with a *StepError
// naming the step, and the journal says so.
func TestEngineFailures(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		spec simhost.Spec
		opts steps.Options
		step string
		want string
	}{
		{"merge conflict", simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", Conflicts: []string{"/etc/ssh/sshd_config"}}, steps.Options{To: "14.2-RELEASE"},
			steps.StepUpgrade, "could not merge /etc/ssh/sshd_config"},
		{"stale packages", simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", Packages: []simhost.PackageSpec{{Name: "oldtool", NotInRepo: true}}}, steps.Options{To: "14.2-RELEASE"},
			steps.StepPackages, "still built for the old release"},
		{"custom kernel", simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", KernelIdent: "MYKERNEL"}, steps.Options{To: "14.2-RELEASE"},
			steps.StepUpgrade, "will not update the MYKERNEL kernel"},
		{"disk gone while writing", simhost.Spec{Preset: "bios+uefi", Release: "13.4-RELEASE", Disks: 2,
			Faults: []*simhost.Fault{{Command: "gpart", Args: "bootcode", Action: "remove-disk", Disk: "ada1", After: 0}}}, steps.Options{To: "14.2-RELEASE"},
			steps.StepBootcode, "zpool detach zroot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newSimHost(t, c.spec)
			p := h.plan(c.opts)
			if err := h.store.EnsureDir(); err != nil {
				t.Fatal(err)
			}
			j := steps.NewJournal(p, p.Options.Now)
			var err error
			for range 5 {
				var out steps.Outcome
				out, err = h.engine(h.boots > 0, nil).Apply(context.Background(), j)
				if err != nil || out != steps.Rebooting {
					break
				}
				h.boot()
			}
			var se *steps.StepError
			if !errors.As(err, &se) || se.Step != c.step || !strings.Contains(err.Error(), c.want) || se.Unwrap() == nil {
				t.Fatalf("Apply: %v; want step %s to fail saying %q\n%s", err, c.step, c.want, h.out.String())
			}
			if j.Status != steps.StatusFailed || !strings.Contains(j.Message, c.want) {
				t.Errorf("journal: %s: %s", j.Status, j.Message)
			}
			saved, lerr := h.store.Load()
			if lerr != nil || saved.Status != steps.StatusFailed {
				t.Errorf("the saved journal: %v, %v", saved, lerr)
			}
		})
	}
}

// TestEngineHostShapes: upgrades of hosts of other shapes end on the new
// release, running what their shape needs: with --compat-libs a package
// the new repository lacks keeps its libraries through misc/compatNNx;
// portmaster rebuilds what was built from ports; legacy 800K ESPs get
// boot1.efi; --format-esps formats the ESPs the installer left empty; the
// ESP of a disk outside the pool gets its FreeBSD loader replaced.
func TestEngineHostShapes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		spec simhost.Spec
		opts steps.Options
		want string
	}{
		{"compat-libs", simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", Packages: []simhost.PackageSpec{{Name: "oldtool", NotInRepo: true}}},
			steps.Options{To: "14.2-RELEASE", CompatLibs: true}, "pkg-static install -y misc/compat13x"},
		{"portmaster", simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", Portmaster: true},
			steps.Options{To: "14.2-RELEASE", Packages: "portmaster"}, "portmaster -aPf"},
		{"legacy boot1 ESPs", simhost.Spec{Preset: "bios+uefi", Release: "13.4-RELEASE", Installed: "11.2-RELEASE", Disks: 2, ESPs: "all"},
			steps.Options{To: "14.2-RELEASE"}, "cp /boot/boot1.efi"},
		{"unformatted ESPs", simhost.Spec{Preset: "uefi", Release: "13.4-RELEASE", Disks: 2},
			steps.Options{To: "14.2-RELEASE", FormatESPs: true}, "newfs_msdos -F 32 -c 1 /dev/ada1p1"},
		{"other disks", simhost.Spec{Preset: "uefi", Release: "13.4-RELEASE", OtherDisks: []string{"ada5"},
			ESPFiles: []simhost.ESPFile{{Disk: "ada5", Path: "efi/boot/bootx64.efi", Program: "loader.efi"}}},
			steps.Options{To: "14.2-RELEASE"}, "mount_msdosfs /dev/ada5p1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newSimHost(t, c.spec)
			j := h.run(h.plan(c.opts), "", "")
			if j.Status != steps.StatusDone {
				t.Fatalf("status %s: %s", j.Status, j.Message)
			}
			if len(h.r.Commands(c.want)) == 0 {
				t.Errorf("%q never ran", c.want)
			}
		})
	}
}

// TestEngineCopiesItself: at a checkpoint the running zupgrade is copied
// where the boot hook runs it, once: at the next checkpoint the copy is
// the same.
func TestEngineCopiesItself(t *testing.T) {
	t.Parallel()
	h := newSimHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE"})
	if err := os.MkdirAll(filepath.Join(h.m.Root, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.m.Root, "tmp", "zupgrade"), []byte("#!/bin/sh\n# zupgrade\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.binary = "/tmp/zupgrade"
	j := h.run(h.plan(steps.Options{To: "14.2-RELEASE"}), "", "")
	if j.Status != steps.StatusDone {
		t.Fatalf("status %s: %s", j.Status, j.Message)
	}
	if got := h.r.Commands("install -m 0555 /tmp/zupgrade /usr/local/sbin/zupgrade"); len(got) != 1 {
		t.Errorf("zupgrade was copied %d times, want once", len(got))
	}
	data, err := os.ReadFile(filepath.Join(h.m.Root, "usr", "local", "sbin", "zupgrade"))
	if err != nil || !strings.Contains(string(data), "# zupgrade") {
		t.Errorf("the copy: %q, %v", data, err)
	}

	// A binary the host cannot read stops the checkpoint.
	h2 := newSimHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE"})
	h2.binary = "/tmp/missing"
	if err := h2.store.EnsureDir(); err != nil {
		t.Fatal(err)
	}
	j = steps.NewJournal(h2.plan(steps.Options{To: "14.2-RELEASE"}), time.Now())
	if _, err := h2.engine(false, nil).Apply(context.Background(), j); err == nil || !strings.Contains(err.Error(), "cannot read the running zupgrade (/tmp/missing: ") || strings.Contains(err.Error(), "it cannot be read") {
		t.Errorf("Apply with a missing binary: %v", err)
	}
}

// TestEngineRefusesOtherBootEnv: resumed in a boot environment other than
// the one the run upgrades (the backup, booted by hand), the engine goes
// no further there and removes the boot hook from it.
func TestEngineRefusesOtherBootEnv(t *testing.T) {
	t.Parallel()
	h := newSimHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE"})
	p := h.plan(steps.Options{To: "14.2-RELEASE"})
	if err := h.store.EnsureDir(); err != nil {
		t.Fatal(err)
	}
	j := steps.NewJournal(p, p.Options.Now)
	j.NoReboot = true
	if out, err := h.engine(false, nil).Apply(context.Background(), j); err != nil || out != steps.Stopped {
		t.Fatalf("Apply = %v, %v", out, err)
	}
	b, _ := p.Backup()
	if _, err := host.Output(context.Background(), h.r, "bectl", "activate", b.Name); err != nil {
		t.Fatal(err)
	}
	h.boot()
	// The backup was made before the checkpoint enabled the hook; a copy
	// such as freebsd-update's boot environments holds it enabled.
	for _, c := range [][]string{{"mkdir", "-p", "/etc/rc.conf.d"}, {"sysrc", "-f", "/etc/rc.conf.d/zupgrade", "zupgrade_enable=YES"}} {
		if _, err := host.Output(context.Background(), h.r, c...); err != nil {
			t.Fatal(err)
		}
	}
	_, err := h.engine(true, nil).Apply(context.Background(), j)
	if err == nil || !strings.Contains(err.Error(), "the host runs boot environment zroot/ROOT/"+b.Name) || !strings.Contains(err.Error(), "the boot hook is removed") {
		t.Fatalf("Apply in the backup: %v", err)
	}
	if len(h.r.Commands("sysrc -f /etc/rc.conf.d/zupgrade -x zupgrade_enable")) != 1 {
		t.Errorf("the boot hook was not disabled there: %v", h.r.Commands("sysrc"))
	}
	if _, err := host.Output(context.Background(), h.r, "sysrc", "-f", "/etc/rc.conf.d/zupgrade", "-n", "zupgrade_enable"); err == nil {
		t.Error("zupgrade_enable is still set in the other boot environment")
	}
}

// TestEngineInterrupted: asked to stop, the engine stops before the next
// step, leaves the run interrupted, and a later apply goes on from there.
func TestEngineInterrupted(t *testing.T) {
	t.Parallel()
	h := newSimHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE"})
	p := h.plan(steps.Options{To: "14.2-RELEASE"})
	if err := h.store.EnsureDir(); err != nil {
		t.Fatal(err)
	}
	j := steps.NewJournal(p, p.Options.Now)
	e := h.engine(false, nil)
	e.Interrupted = func() bool { return j.Record(steps.StepBackup).State == steps.StepDone }
	_, err := e.Apply(context.Background(), j)
	if !errors.Is(err, steps.ErrInterrupted) || j.Status != steps.StatusInterrupted || j.Current().ID != steps.StepUpgrade {
		t.Fatalf("Apply = %v; status %s at %s", err, j.Status, j.Current().ID)
	}
	j.NoReboot = true
	if out, err := h.engine(false, nil).Apply(context.Background(), j); err != nil || out != steps.Stopped {
		t.Fatalf("Apply again = %v, %v", out, err)
	}
	if n := len(h.r.Commands("bectl create")); n != 1 {
		t.Errorf("the backup was made %d times", n)
	}
}
