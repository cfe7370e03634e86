// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// shEnv runs a simulated command on the machine with env set.
func (h *testHost) shEnv(env map[string]string, args ...string) string {
	h.t.Helper()
	var out, errb bytes.Buffer
	if code := h.m.Exec(context.Background(), args, strings.NewReader(""), &out, &errb, env); code != 0 {
		h.t.Fatalf("%s: exit %d: %s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String()
}

// stage does by hand what a staged upgrade does before its trial boot:
// a boot environment named for the target, mounted, upgraded there by
// freebsd-update -b and its installs, its packages, the boot code and
// loaders of every disk from MOUNT/boot, unmounted, activated for the
// next boot only.
func (h *testHost) stage(from, target string, disks, esps []string) {
	h.t.Helper()
	env := map[string]string{"PAGER": "cat", "LC_ALL": "C", simhost.TTYEnv: "stdin"}
	h.sh("bectl", "create", "-r", target)
	mnt := strings.TrimSpace(h.sh("bectl", "mount", target))
	fu := []string{"freebsd-update", "--not-running-from-cron", "-b", mnt, "-d", mnt + "/var/db/freebsd-update", "--currently-running", from}
	h.shEnv(env, append(fu, "-r", target, "upgrade")...)
	for i := 0; i < 3; i++ {
		var out, errb bytes.Buffer
		if h.m.Exec(context.Background(), append(fu, "updatesready"), nil, &out, &errb, env) != 0 {
			break
		}
		h.shEnv(env, append(fu, "install")...)
	}
	h.sh("mount", "-t", "devfs", "devfs", mnt+"/dev")
	h.shEnv(map[string]string{"ASSUME_ALWAYS_YES": "yes", "IGNORE_OSVERSION": "yes"}, "pkg-static", "-c", mnt, "upgrade", "-f", "-y")
	h.sh("umount", mnt+"/dev")
	for _, d := range disks {
		h.sh("gpart", "bootcode", "-b", mnt+"/boot/pmbr", "-p", mnt+"/boot/gptzfsboot", "-i", "2", d)
	}
	for i, esp := range esps {
		point := "/boot/efi"
		if i > 0 {
			point = "/mnt"
			h.sh("mount_msdosfs", esp, point)
		}
		h.sh("mkdir", "-p", point+"/efi/freebsd", point+"/efi/boot")
		for _, f := range []string{"efi/freebsd/loader.efi", "efi/boot/bootx64.efi"} {
			h.sh("cp", mnt+"/boot/loader.efi", point+"/"+f+".new")
			h.sh("mv", point+"/"+f+".new", point+"/"+f)
		}
		h.sh("sync")
		if i > 0 {
			h.sh("umount", point)
		}
	}
	h.sh("bectl", "umount", target)
	h.sh("bectl", "activate", "-t", target)
}

// features returns the pool's feature states, name -> state.
func (h *testHost) features(pool string) map[string]string {
	h.t.Helper()
	out := map[string]string{}
	for _, l := range strings.Split(h.sh("zpool", "get", "-H", "-p", "all", pool), "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && strings.HasPrefix(f[1], "feature@") {
			out[strings.TrimPrefix(f[1], "feature@")] = f[2]
		}
	}
	return out
}

// Issue 12's host: a BIOS+UEFI mirror booting with UEFI whose pool was
// made by 13.2 with compatibility=openzfs-2.2, on 14.3, upgraded to 15.0
// in a new boot environment.
const (
	finalizeFrom   = "14.3-RELEASE-p3"
	finalizeTarget = "15.0-RELEASE"
)

func finalizeSpec() simhost.Spec {
	return simhost.Spec{Preset: "bios+uefi", Release: finalizeFrom, Disks: 2, Firmware: "UEFI", ESPs: "all",
		PoolRelease: "13.2-RELEASE", Compatibility: "openzfs-2.2"}
}

// commitTrial boots the staged host into its trial and commits it, as
// the staged upgrade does when the health checks pass.
func (h *testHost) commitTrial() {
	h.t.Helper()
	h.boot(simhost.BootOptions{NoHooks: true})
	if got := h.sh("freebsd-version", "-kru"); got != strings.Repeat(finalizeTarget+"\n", 3) {
		h.t.Fatalf("the trial boot runs %q", got)
	}
	h.sh("bectl", "activate", finalizeTarget)
}

// oldFilesystem puts zroot/var/log at ZPL version 4, as an older release
// made it.
func (h *testHost) oldFilesystem() {
	h.t.Helper()
	if err := h.m.Update(func(m *simhost.Model) error {
		for _, p := range m.Pools {
			for _, d := range p.Datasets {
				if d.Name == "zroot/var/log" {
					d.Version = 4
					return nil
				}
			}
		}
		return fmt.Errorf("no zroot/var/log on the machine")
	}); err != nil {
		h.t.Fatal(err)
	}
	if got := h.sh("zfs", "upgrade"); !strings.Contains(got, " 4   zroot/var/log\n") {
		h.t.Fatalf("zfs upgrade before finalize:\n%s", got)
	}
}

// assertFinalized checks what finalize --keep 1 leaves on the staged
// host: every pool feature the compatibility property allows and the
// loader reads enabled, and no other, compared with the features before; boot code written on
// every disk by the run; no file system to upgrade; the new boot
// environment alone; each disk booting it.
func (h *testHost) assertFinalized(before map[string]string) {
	h.t.Helper()
	t := h.t
	if j := h.journal(); j == nil || j.Status != steps.StatusDone || j.Plan.Mode != steps.ModeFinalize {
		t.Fatalf("the finalize run is not done: %+v", j)
	}
	after := h.features("zroot")
	allowed := map[string]bool{}
	for _, f := range strings.Fields(h.sh("cat", "/usr/share/zfs/compatibility.d/openzfs-2.2")) {
		allowed[f] = true
	}
	enabled := 0
	for f, st := range after {
		// A feature the loader cannot read once active is never
		// enabled (edonr: 14.x and 15.0 offer it to a 13.2 pool).
		sf, _ := simhost.LookupFeature(f)
		loaderReads := sf.ReadOnlyCompat || sf.LoaderSince != ""
		switch {
		case !loaderReads && before[f] == "disabled" && st != "disabled":
			t.Errorf("feature %s, which the loader cannot read once active, is %s", f, st)
		case allowed[f] && loaderReads && st == "disabled":
			t.Errorf("feature %s, allowed by compatibility=openzfs-2.2, is still disabled", f)
		case !allowed[f] && st != "disabled":
			t.Errorf("feature %s, outside compatibility=openzfs-2.2, is %s", f, st)
		case before[f] == "disabled" && st != "disabled":
			enabled++
		}
	}
	if enabled == 0 {
		t.Errorf("finalize enabled no feature: before %v, after %v", before, after)
	}
	data, err := os.ReadFile(filepath.Join(steps.LogDirFor(h.state), h.journal().RunID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"ada0", "ada1"} {
		if !strings.Contains(string(data), "gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 2 "+d) {
			t.Errorf("the run log shows no gpart bootcode for %s", d)
		}
	}
	if got := h.sh("zfs", "upgrade"); !strings.Contains(got, "All filesystems are formatted with the current version.") {
		t.Errorf("zfs upgrade after finalize:\n%s", got)
	}
	list := h.sh("bectl", "list", "-H")
	if strings.Count(list, "\n") != 1 || !strings.HasPrefix(list, finalizeTarget+"\tNR\t") {
		t.Errorf("bectl list -H after finalize --keep 1:\n%s", list)
	}
	h.assertBootsEverywhere(finalizeTarget)
}

// TestFinalizeAfterStagedUpgrade is issue 12's finalize on the staged
// host: refused while the trial is pending and while it is not
// committed; once it is, finalize (killed during its pool upgrade, then
// run again) enables the pool features 15.0 offers within the pool's
// compatibility property, writes the boot code again on every disk,
// upgrades the old file system, keeps --keep 1 boot environment, and each
// disk boots alone.
func TestFinalizeAfterStagedUpgrade(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole staged upgrade")
	}
	h := newHost(t, finalizeSpec())
	h.stage(finalizeFrom, finalizeTarget, []string{"ada0", "ada1"}, []string{"", "/dev/ada1p1"})

	// The trial is armed: bectl list shows T.
	if code, out := h.zupgrade(nil, "finalize", "--keep", "1"); code != ExitBlocked || !strings.Contains(out, "for the next boot only") {
		t.Fatalf("finalize with the trial boot pending: exit %d, want %d:\n%s", code, ExitBlocked, out)
	}
	h.boot(simhost.BootOptions{NoHooks: true})
	// On trial, uncommitted: the next boot is the old one's.
	if code, out := h.zupgrade(nil, "finalize", "--keep", "1"); code != ExitBlocked || !strings.Contains(out, "is not the one the next boot uses") {
		t.Fatalf("finalize during the trial: exit %d, want %d:\n%s", code, ExitBlocked, out)
	}
	if code, out := h.zupgrade(nil, "finalize", "--dry-run", "--keep", "1", "--json"); code != ExitBlocked || !strings.Contains(out, `"trial-committed"`) {
		t.Fatalf("finalize --dry-run --json during the trial: exit %d:\n%s", code, out)
	}
	if h.journal() != nil {
		t.Fatal("a refused finalize left a journal")
	}
	// The health checks passed: committed.
	h.sh("bectl", "activate", finalizeTarget)
	h.oldFilesystem()
	before := h.features("zroot")

	// A crash in the middle of the pool upgrade; finalize resumes.
	if code, out := h.zupgradeFor(h.runLimit(), []string{"ZUPGRADE_CRASH_AT=" + steps.StepZpoolUpgrade + ":after-started"}, "finalize", "--keep", "1", "--yes"); code != -1 {
		t.Fatalf("finalize was to be killed during %s: exit %d\n%s", steps.StepZpoolUpgrade, code, out)
	}
	if j := h.journal(); j == nil || j.Plan.Mode != steps.ModeFinalize || j.Status != steps.StatusRunning {
		t.Fatalf("after the crash the journal is %+v", j)
	}
	if code, out := h.zupgrade(nil, "finalize", "--keep", "1"); code != 0 {
		t.Fatalf("finalize after the crash: exit %d\n%s", code, out)
	}
	h.assertFinalized(before)
}

// TestFinalizeCrashResumes: finalize killed at a point of each of its
// steps (before a step, after its command and before the journal says
// so, at the end) is resumed by running it again, and ends as an
// uninterrupted one.
func TestFinalizeCrashResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("whole staged upgrades")
	}
	for _, at := range []string{
		steps.StepBootcode + ":before-start",
		steps.StepZpoolUpgrade + ":after-run",
		steps.StepZfsUpgrade + ":after-run",
		steps.StepPrune + ":after-run",
		steps.StepFinish + ":before-start",
	} {
		t.Run(at, func(t *testing.T) {
			h := newHost(t, finalizeSpec())
			h.stage(finalizeFrom, finalizeTarget, []string{"ada0", "ada1"}, []string{"", "/dev/ada1p1"})
			h.commitTrial()
			h.oldFilesystem()
			before := h.features("zroot")
			if code, out := h.zupgradeFor(h.runLimit(), []string{"ZUPGRADE_CRASH_AT=" + at}, "finalize", "--keep", "1"); code != -1 {
				t.Fatalf("finalize was to be killed at %s: exit %d\n%s", at, code, out)
			}
			if code, out := h.zupgrade(nil, "finalize", "--keep", "1"); code != 0 {
				t.Fatalf("finalize after the crash at %s: exit %d\n%s", at, code, out)
			}
			h.assertFinalized(before)
		})
	}
}
