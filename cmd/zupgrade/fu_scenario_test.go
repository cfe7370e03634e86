// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// ranFreebsdUpdate reports whether the host ran freebsd-update at all.
func (h *testHost) ranFreebsdUpdate() bool {
	h.t.Helper()
	model, err := h.m.Model()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, c := range model.History {
		if len(c.Argv) > 0 && strings.HasSuffix(c.Argv[0], "freebsd-update") {
			return true
		}
	}
	return false
}

// TestPkgbaseHost: on a packaged base freebsd-update refuses every command
// (check_pkgbase, 14.3 on). inspect and plan still work, plan blocks with
// the pkgbase explanation, and neither runs freebsd-update there.
func TestPkgbaseHost(t *testing.T) {
	for _, tt := range []struct{ rel, to string }{{"14.3-RELEASE", "15.0-RELEASE"}, {"15.0-RELEASE", ""}, {"14.2-RELEASE", "14.3-RELEASE"}} {
		t.Run(tt.rel, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, simhost.Spec{Preset: "bios", Release: tt.rel, Pkgbase: true})
			code, out := h.zupgrade(nil, "inspect")
			if code != 0 || !strings.Contains(strings.ToLower(out), "pkgbase") {
				t.Errorf("inspect on a pkgbase host: exit %d\n%s", code, out)
			}
			args := []string{"plan"}
			if tt.to != "" {
				args = append(args, "--to", tt.to)
			}
			code, out = h.zupgrade(nil, args...)
			if code != ExitBlocked || !strings.Contains(out, "[block] base system installed by freebsd-update, not packages") || !strings.Contains(out, "pkg upgrade") {
				t.Errorf("plan on a pkgbase host: exit %d\n%s", code, out)
			}
			if h.ranFreebsdUpdate() {
				t.Errorf("zupgrade ran freebsd-update on a pkgbase host")
			}
		})
	}
}

// installDir is freebsd-update's pending install of basedir /.
const installDir = "/var/db/freebsd-update/f465c3739385890c221dff1a05e578c6cae0d0430e46996d319db7439f884336-install"

// noKernelInstalled fails the test when an install of the upgrade began:
// the kernel is the old one and no kerneldone marker exists.
func (h *testHost) noKernelInstalled(old string) {
	h.t.Helper()
	if got := h.sh("freebsd-version", "-k"); got != old+"\n" {
		h.t.Errorf("installed kernel %q, want %s", got, old)
	}
	if _, err := os.Stat(h.m.HostPath(installDir + "/kerneldone")); err == nil {
		h.t.Errorf("install #1 ran")
	}
}

// TestCustomKernelNotUpdated: freebsd-update leaves a kernel configuration
// FreeBSD does not distribute as it is ("you MUST update the kernel
// manually"). plan warns; apply stops before install #1 with what to do,
// and so does every apply after it.
func TestCustomKernelNotUpdated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", KernelIdent: "MYKERNEL"})
	code, out := h.zupgrade(nil, "inspect")
	if code != 0 || !strings.Contains(out, "kernel config:     MYKERNEL (not GENERIC") {
		t.Errorf("inspect with a custom kernel: exit %d\n%s", code, out)
	}
	code, out = h.zupgrade(nil, "plan", "--to", "14.2-RELEASE")
	if code != 0 || !strings.Contains(out, "[warn ] kernel configuration freebsd-update upgrades") || !strings.Contains(out, "MYKERNEL") {
		t.Errorf("plan with a custom kernel: exit %d\n%s", code, out)
	}
	// The second apply resumes the stopped run, with --yes: agreeing to a
	// GENERIC kernel does not make freebsd-update update this one.
	for i, args := range [][]string{{"--to", "14.2-RELEASE"}, {"--to", "14.2-RELEASE", "--yes"}} {
		code, log := h.runUpgrade(nil, args...)
		if code != ExitFailed || !strings.Contains(log, "will not update the MYKERNEL kernel") || !strings.Contains(log, "KERNCONF=MYKERNEL") {
			t.Errorf("apply #%d: exit %d\n%s", i+1, code, log)
		}
		h.noKernelInstalled("13.4-RELEASE")
		// The first run stops at the upgrade's warning, the resumed one
		// before install #1, the upgrade being fetched already.
		if step := []string{"step upgrade", "step install-kernel"}[i]; !strings.Contains(log, step) {
			t.Errorf("apply #%d did not stop at %s:\n%s", i+1, step, log)
		}
	}
}

// TestCustomKernelReplaced: freebsd-update offers to replace a
// configuration the new release no longer distributes with GENERIC. Only
// the admin's --yes accepts; without it apply stops before anything is
// installed.
func TestCustomKernelReplaced(t *testing.T) {
	if testing.Short() {
		t.Skip("runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", KernelIdent: "MYKERNEL", KernelConfigs: map[string][]string{"13.4-RELEASE": {"MYKERNEL"}}})
	code, log := h.runUpgrade(nil, "--to", "14.2-RELEASE")
	if code != ExitFailed || !strings.Contains(log, "--yes") || !strings.Contains(log, "GENERIC") {
		t.Errorf("apply without --yes: exit %d\n%s", code, log)
	}
	h.noKernelInstalled("13.4-RELEASE")
	code, log = h.runUpgrade(nil, "--to", "14.2-RELEASE", "--yes")
	h.assertDone(code, log)
	h.assertBootsEverywhere("14.2-RELEASE")
	if got := h.sh("uname", "-i"); got != "GENERIC\n" {
		t.Errorf("uname -i = %q after the upgrade", got)
	}
}

// TestFreebsdUpdateBootEnvs: freebsd-update makes a boot environment at
// every install (CreateBootEnv defaults to yes), so some of them are copies
// of the host taken while the run was under way, boot hook and journal
// included. Booting one of them must not resume the run there: the run
// upgrades the boot environment it started in. zupgrade's own backup stays
// what rollback uses.
func TestFreebsdUpdateBootEnvs(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE"})
	code, log := h.runUpgrade(nil, "--to", "14.2-RELEASE")
	h.assertDone(code, log)
	var fu []string
	backup := ""
	for _, line := range strings.Split(strings.TrimSpace(h.sh("bectl", "list", "-H")), "\n") {
		name := strings.Fields(line)[0]
		switch {
		case strings.HasPrefix(name, "zupgrade-"):
			backup = name
		case strings.HasPrefix(name, "13.4-RELEASE_"), strings.HasPrefix(name, "14.2-RELEASE_"):
			fu = append(fu, name)
		}
	}
	if backup == "" || len(fu) != 3 {
		t.Fatalf("want zupgrade's backup and one boot environment per install:\n%s", h.sh("bectl", "list", "-H"))
	}
	// The BE of install #2 was taken after the reboot into the new kernel:
	// the boot hook is enabled in it and its journal is mid-run.
	mid := fu[1]
	h.sh("bectl", "activate", "-t", mid)
	rep := h.boot(simhost.BootOptions{})
	h.wait() // the run the hook detached
	if !strings.HasSuffix(rep.BE, "/"+mid) {
		t.Fatalf("booted %s, want %s", rep.BE, mid)
	}
	// resume.log is a copy too: what this boot's resume wrote comes after
	// its last "resuming run" line.
	data, _ := os.ReadFile(h.m.HostPath("/var/db/zupgrade/logs/resume.log"))
	out := string(data)
	if i := strings.LastIndex(out, "resuming run"); i >= 0 {
		out = out[i:]
	}
	if strings.Contains(out, "/13] ") || !strings.Contains(out, "boot environment zroot/ROOT/"+mid) {
		t.Errorf("the boot hook in %s resumed the run, or did not say why not:\n%s", mid, out)
	}
	if h.down() {
		t.Fatalf("booting %s rebooted the machine", mid)
	}
	if _, err := os.Stat(h.m.HostPath("/usr/local/etc/rc.d/zupgrade")); err == nil {
		t.Errorf("the boot hook stays in %s", mid)
	}
	if rc, _ := os.ReadFile(h.m.HostPath("/etc/rc.conf")); strings.Contains(string(rc), "zupgrade_enable") {
		t.Errorf("the boot hook stays enabled in %s:\n%s", mid, rc)
	}
	// Back in the run's boot environment, the finished run stays finished,
	// and rollback still means zupgrade's backup.
	h.boot(simhost.BootOptions{})
	h.wait()
	if code, out := h.zupgrade(nil, "status"); code != 0 || !strings.Contains(out, "done") {
		t.Errorf("status after booting the original again: exit %d\n%s", code, out)
	}
	if j := h.journal(); j.Status != steps.StatusDone {
		t.Errorf("journal %s", j.Status)
	}
}

// TestCustomKernelPatch: fetch patches no custom kernel (its paths are not
// on disk); a patch run still ends, with the kernel at its patch level.
func TestCustomKernelPatch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "14.3-RELEASE-p5", KernelIdent: "MYKERNEL", Updates: map[string]int{"14.3-RELEASE": 6}})
	code, out := h.zupgrade(nil, "plan")
	if code != 0 || !strings.Contains(out, "[warn ] kernel configuration freebsd-update upgrades: the running kernel is MYKERNEL") {
		t.Errorf("patch plan with a custom kernel: exit %d\n%s", code, out)
	}
	code, log := h.runUpgrade(nil)
	h.assertDone(code, log)
	if got := h.sh("freebsd-version", "-ku"); got != "14.3-RELEASE-p5\n14.3-RELEASE-p6\n" {
		t.Errorf("freebsd-version -ku = %q", got)
	}
}

// TestBootEnvsFrom12: the 12.3 and 12.4 scripts make a boot environment at
// every install as well; a whole upgrade from 12.4 ends on the target
// from every disk, with zupgrade's backup beside freebsd-update's own.
func TestBootEnvsFrom12(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios+uefi", Release: "12.4-RELEASE", ESPs: "all"})
	code, log := h.runUpgrade(nil, "--to", "13.4-RELEASE")
	h.assertDone(code, log)
	h.assertBootsEverywhere("13.4-RELEASE")
	bes := h.sh("bectl", "list", "-H")
	// 12.4 -> 13.4 keeps the shared objects' versions: two installs.
	if !strings.Contains(bes, "zupgrade-12.4-RELEASE-to-13.4-RELEASE-") || strings.Count(bes, "12.4-RELEASE_") != 1 || strings.Count(bes, "13.4-RELEASE_") != 1 {
		t.Errorf("boot environments after the upgrade:\n%s", bes)
	}
}
