// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The rules a staged upgrade uses (issue 12): a boot environment mounted
// with bectl, freebsd-update -b/-d/--currently-running into it, pkg -r/-c
// there with devfs, bectl activate -t and the boot that follows. These
// tests drive the simulated commands only.

// mountNewBE makes boot environment name from the running one and mounts
// it at a temporary mount point, which it returns.
func (tm *testMachine) mountNewBE(name string) string {
	tm.t.Helper()
	tm.mustOK("", "bectl", "create", "-r", name)
	mnt := strings.TrimSpace(tm.mustOK("", "bectl", "mount", name))
	if !strings.HasPrefix(mnt, "/tmp/be_mount.") || len(mnt) != len("/tmp/be_mount.XXXX") {
		tm.t.Fatalf("bectl mount printed %q, want be_mount's mkdtemp(\"/tmp/be_mount.XXXX\")", mnt)
	}
	return mnt
}

// TestStagedBectlMount: bectl mount/umount as libbe's be_mount and
// be_unmount answer, and bectl list's Mountpoint column.
func TestStagedBectlMount(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	mnt := tm.mountNewBE("new")
	if got := tm.must("cat", mnt+"/bin/freebsd-version"); !strings.Contains(got, "14.2-RELEASE") {
		t.Errorf("the mounted boot environment's freebsd-version: %q", got)
	}
	// A file written there is the boot environment's, not the running one's.
	tm.mustOK("", "install", "-d", mnt+"/var/db/zupgrade")
	tm.mustOK("", "cp", "/etc/rc.conf", mnt+"/var/db/zupgrade/marker")
	if r := tm.run("ls", "-1", "/var/db/zupgrade/marker"); r.code == 0 {
		t.Errorf("a file written into the mounted boot environment shows in the running one")
	}
	list := tm.must("bectl", "list", "-H")
	if !strings.Contains(list, "new\t-\t"+mnt+"\t") || !strings.Contains(list, "default\tNR\t/\t") {
		t.Errorf("bectl list -H with new mounted at %s:\n%s", mnt, list)
	}

	for _, c := range []struct {
		argv []string
		code int
		err  string
	}{
		{[]string{"bectl", "mount", "new"}, 12, "boot environment is already mounted\nFailed to mount bootenv new at temporary path (null)\n"},
		{[]string{"bectl", "mount", "default"}, 12, "boot environment is already mounted\n"},
		{[]string{"bectl", "mount", "nosuch"}, 3, "specified boot environment does not exist\n"},
		{[]string{"bectl", "umount", "default"}, 8, "specified path is busy\nFailed to unmount bootenv default\n"},
		{[]string{"bectl", "umount", "nosuch"}, 14, "calling zfs_open() failed\n"},
		{[]string{"bectl", "create", "new"}, 2, "boot environment name already taken\nFailed to create bootenv new\n"},
	} {
		r := tm.run(c.argv...)
		if r.code != c.code || !strings.HasPrefix(r.err, c.err) {
			t.Errorf("%s: %v, want exit %d and %q", strings.Join(c.argv, " "), r, c.code, c.err)
		}
	}

	tm.mustOK("", "bectl", "umount", "new")
	if got := tm.must("ls", "-1", "-A", mnt); got != "" {
		t.Errorf("the mount point after bectl umount holds %q", got)
	}
	if list := tm.must("bectl", "list", "-H"); !strings.Contains(list, "new\t-\t-\t") {
		t.Errorf("bectl list -H after umount:\n%s", list)
	}
	// Not mounted: be_unmount leaves it alone and succeeds.
	tm.mustOK("", "bectl", "umount", "new")

	// At a mount point of one's own; its files kept what was written.
	tm.mustOK("", "mkdir", "/mnt/be")
	if got := tm.mustOK("", "bectl", "mount", "new", "/mnt/be"); got != "/mnt/be\n" {
		t.Errorf("bectl mount new /mnt/be printed %q", got)
	}
	tm.must("cat", "/mnt/be/var/db/zupgrade/marker")
	// A snapshot of the running boot environment does not take the
	// files of the one mounted inside it.
	tm.mustOK("", "bectl", "create", "copy")
	tm.mustOK("", "bectl", "umount", "new")
	copyMnt := strings.TrimSpace(tm.mustOK("", "bectl", "mount", "copy"))
	if r := tm.run("ls", "-1", copyMnt+"/mnt/be/var/db/zupgrade/marker"); r.code == 0 {
		t.Errorf("a clone of the running boot environment holds the files of the one mounted in it")
	}
	if r := tm.run("bectl", "mount", "new", "/mnt/nosuch"); r.code != 7 || !strings.Contains(r.err, "path not suitable for operation\nFailed to mount bootenv new at /mnt/nosuch\n") {
		t.Errorf("bectl mount at a missing directory: %v", r)
	}
}

// TestStagedDevfs: mount -t devfs devfs MOUNT/dev, and a boot environment
// with devfs still mounted inside cannot be unmounted.
func TestStagedDevfs(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	mnt := tm.mountNewBE("new")
	tm.mustOK("", "mount", "-t", "devfs", "devfs", mnt+"/dev")
	if got := tm.must("mount"); !strings.Contains(got, "devfs on "+mnt+"/dev (devfs, multilabel)\n") || !strings.Contains(got, "zroot/ROOT/new on "+mnt+" (zfs, ") {
		t.Errorf("mount lists:\n%s", got)
	}
	if r := tm.run("bectl", "umount", "new"); r.code != 8 || !strings.Contains(r.err, "specified path is busy") {
		t.Errorf("bectl umount with devfs mounted inside: %v", r)
	}
	if r := tm.run("umount", mnt); r.code != 1 || !strings.Contains(r.err, "umount: unmount of "+mnt+" failed: Device busy") {
		t.Errorf("umount of the boot environment with devfs mounted inside: %v", r)
	}
	if r := tm.run("mount", "-t", "devfs", "devfs", "/nosuch/dev"); r.code != 1 || !strings.Contains(r.err, "No such file or directory") {
		t.Errorf("mount -t devfs on a missing directory: %v", r)
	}
	tm.mustOK("", "umount", mnt+"/dev")
	if got := tm.must("mount"); strings.Contains(got, mnt+"/dev") {
		t.Errorf("devfs still listed after umount:\n%s", got)
	}
	// umount(8) of the mount point unmounts the boot environment too.
	tm.mustOK("", "umount", mnt)
	if list := tm.must("bectl", "list", "-H"); !strings.Contains(list, "new\t-\t-\t") {
		t.Errorf("bectl list -H after umount of the mount point:\n%s", list)
	}
}

// TestStagedMountEndsAtBoot: a mount does not survive the system that
// made it; the boot environment's files are kept.
func TestStagedMountEndsAtBoot(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	mnt := tm.mountNewBE("new")
	tm.mustOK("", "cp", "/etc/rc.conf", mnt+"/etc/rc.conf.staged")
	if err := tm.PowerCut(); err != nil {
		t.Fatal(err)
	}
	tm.mustBoot(BootOptions{})
	if list := tm.must("bectl", "list", "-H"); !strings.Contains(list, "new\t-\t-\t") {
		t.Errorf("bectl list -H after a power cut:\n%s", list)
	}
	mnt = strings.TrimSpace(tm.mustOK("", "bectl", "mount", "new"))
	tm.must("cat", mnt+"/etc/rc.conf.staged")
}

// TestStagedBectlActivate: bectl activate -t is the pool's bootonce, -T
// removes it (with no name), bectl list shows T.
func TestStagedBectlActivate(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	tm.mustOK("", "bectl", "create", "-r", "new")
	if got := tm.mustOK("", "bectl", "activate", "-t", "new"); got != "Successfully activated boot environment new for next boot\n" {
		t.Errorf("activate -t printed %q", got)
	}
	if list := tm.must("bectl", "list", "-H"); !strings.Contains(list, "new\tT\t") || !strings.Contains(list, "default\tNR\t") {
		t.Errorf("bectl list -H after activate -t:\n%s", list)
	}
	if got := tm.mustOK("", "bectl", "activate", "-T"); got != "Temporary activation removed\n" {
		t.Errorf("activate -T printed %q", got)
	}
	if list := tm.must("bectl", "list", "-H"); !strings.Contains(list, "new\t-\t") {
		t.Errorf("bectl list -H after activate -T:\n%s", list)
	}
	if r := tm.run("bectl", "activate", "-t", "-T", "new"); r.code != 64 {
		t.Errorf("activate -t -T: %v", r)
	}
	r := tm.run("bectl", "activate", "-t", "nosuch")
	if r.code != 3 || r.err != "specified boot environment does not exist\n" || r.out != "Did not successfully activate boot environment nosuch for next boot\n" {
		t.Errorf("activate -t of a missing boot environment: %v", r)
	}
}

// TestStagedFreebsdUpdateBasedir: freebsd-update -b MOUNT -d
// MOUNT/var/db/freebsd-update --currently-running REL upgrades the
// mounted boot environment and leaves the running system alone.
func TestStagedFreebsdUpdateBasedir(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	tm.env["PAGER"] = "cat"
	mnt := tm.mountNewBE("14.3")
	work := mnt + "/var/db/freebsd-update"
	fu := func(cmd ...string) []string {
		return append([]string{"freebsd-update", "--not-running-from-cron", "-b", mnt, "-d", work, "--currently-running", "14.2-RELEASE"}, cmd...)
	}
	// --currently-running stands for uname -r.
	if r := tm.runInput("y\ny\n", "freebsd-update", "--not-running-from-cron", "-b", mnt, "-d", work, "--currently-running", "14.3", "-r", "14.3-RELEASE", "upgrade"); r.code != 1 || !strings.Contains(r.out, "Cannot upgrade from 14.3-RELEASE to itself") {
		t.Errorf("upgrade to the release --currently-running names: %v", r)
	}
	if r := tm.runInput("y\ny\n", "freebsd-update", "--not-running-from-cron", "-b", mnt, "-d", mnt+"/nosuch", "-r", "14.3-RELEASE", "upgrade"); r.code != 1 || !strings.Contains(r.out, "Directory does not exist or is not writable: "+mnt+"/nosuch") {
		t.Errorf("upgrade with a missing work directory: %v", r)
	}
	tm.mustOK("y\ny\n", fu("-r", "14.3-RELEASE", "upgrade")...)
	// The pending state is BASEDIR's: named sha256 of "MOUNT\n", in the
	// work directory given.
	sum := sha256.Sum256([]byte(mnt + "\n"))
	bd := hex.EncodeToString(sum[:])
	if got := tm.must("ls", "-1", work); !strings.Contains(got, bd+"-install\n") {
		t.Errorf("work directory %s holds:\n%s", work, got)
	}
	if r := tm.run("freebsd-update", "updatesready"); r.code != 2 {
		t.Errorf("the running system has an install pending: %v", r)
	}
	out := tm.mustOK("", fu("install")...)
	if !strings.Contains(out, "Kernel updates have been installed.  Please reboot and run") {
		t.Errorf("install #1 into %s:\n%s", mnt, out)
	}
	// No reboot: nothing of BASEDIR runs. The script does not check.
	for i := 0; i < 2 && tm.run(fu("updatesready")...).code == 0; i++ {
		tm.mustOK("", fu("install")...)
	}
	if r := tm.run(fu("updatesready")...); r.code != 2 {
		t.Fatalf("updates still pending after three installs: %v", r)
	}
	if got := tm.must("ls", "-1", work); !strings.Contains(got, bd+"-rollback\n") {
		t.Errorf("no rollback state for BASEDIR in %s:\n%s", work, got)
	}
	if got := tm.must("cat", mnt+"/bin/freebsd-version"); !strings.Contains(got, "14.3-RELEASE") {
		t.Errorf("the boot environment's userland: %q", got)
	}
	if got := tm.must("freebsd-version", "-kru"); got != "14.2-RELEASE\n14.2-RELEASE\n14.2-RELEASE\n" {
		t.Errorf("the running system changed: freebsd-version -kru = %q", got)
	}
	// install_create_be makes no boot environment for BASEDIR other than /.
	if list := tm.must("bectl", "list", "-H"); strings.Count(list, "\n") != 2 {
		t.Errorf("freebsd-update install made boot environments:\n%s", list)
	}
}

// TestStagedLibsysOrdering: the freebsd-update without EN-25:18 that
// leaves an in-place 14.3 -> 15.0 upgrade inoperative (bug 289769) works
// into a mounted boot environment: install(1) is the running system's,
// and the libraries it needs are not the ones being replaced.
func TestStagedLibsysOrdering(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.3-RELEASE-p3"})
	tm.env["PAGER"] = "cat"
	mnt := tm.mountNewBE("15.0")
	fu := func(cmd ...string) []string {
		return append([]string{"freebsd-update", "--not-running-from-cron", "-b", mnt, "-d", mnt + "/var/db/freebsd-update", "--currently-running", "14.3-RELEASE-p3"}, cmd...)
	}
	tm.mustOK("", fu("-r", "15.0-RELEASE", "upgrade")...)
	for i := 0; i < 3 && tm.run(fu("updatesready")...).code == 0; i++ {
		tm.mustOK("", fu("install")...)
	}
	if r := tm.run(fu("updatesready")...); r.code != 2 {
		t.Fatalf("updates still pending after three installs: %v", r)
	}
	if got := tm.must("uname", "-r"); got != "14.3-RELEASE-p3\n" {
		t.Errorf("uname -r on the running system: %q", got)
	}
	for _, lib := range []string{"/lib/libsys.so.7", "/lib/libc.so.7"} {
		tm.must("ls", "-1", mnt+lib)
	}
	if got := tm.must("cat", mnt+"/bin/freebsd-version"); !strings.Contains(got, "15.0-RELEASE") {
		t.Errorf("the boot environment's userland: %q", got)
	}
}

// TestStagedPkgRoots: pkg -r and -c work on the tree they name; its ABI is
// that tree's userland's.
func TestStagedPkgRoots(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.3-RELEASE-p3"})
	tm.env["PAGER"] = "cat"
	mnt := tm.mountNewBE("15.0")
	fu := []string{"freebsd-update", "--not-running-from-cron", "-b", mnt, "-d", mnt + "/var/db/freebsd-update", "--currently-running", "14.3-RELEASE-p3"}
	tm.mustOK("", append(fu, "-r", "15.0-RELEASE", "upgrade")...)
	tm.mustOK("", append(fu, "install")...)
	tm.mustOK("", append(fu, "install")...)
	if got := tm.must("pkg", "-r", mnt, "config", "ABI"); got != "FreeBSD:15:amd64\n" {
		t.Errorf("pkg -r %s config ABI = %q", mnt, got)
	}
	if got := tm.must("pkg", "-c", mnt, "config", "ABI"); got != "FreeBSD:15:amd64\n" {
		t.Errorf("pkg -c %s config ABI = %q", mnt, got)
	}
	if got := tm.must("pkg", "config", "ABI"); got != "FreeBSD:14:amd64\n" {
		t.Errorf("pkg config ABI on the running system = %q", got)
	}
	tm.env["ASSUME_ALWAYS_YES"] = "yes"
	tm.env["IGNORE_OSVERSION"] = "yes"
	tm.mustOK("", "pkg-static", "-c", mnt, "upgrade", "-f", "-y")
	if got := tm.must("pkg", "-r", mnt, "query", "%n %q"); !strings.Contains(got, "sudo FreeBSD:15:amd64\n") {
		t.Errorf("packages in %s after pkg -c upgrade:\n%s", mnt, got)
	}
	if got := tm.must("pkg", "query", "%n %q"); !strings.Contains(got, "sudo FreeBSD:14:amd64\n") {
		t.Errorf("the running system's packages changed:\n%s", got)
	}
	if r := tm.run("pkg", "-c", "/nosuch", "info"); r.code != 1 || !strings.Contains(r.err, "pkg: chroot failed: No such file or directory") {
		t.Errorf("pkg -c of a missing directory: %v", r)
	}
	if r := tm.run("pkg", "-r", "/nosuch", "info"); r.code != 1 || !strings.Contains(r.err, "pkg: Invalid rootdir: No such file or directory") {
		t.Errorf("pkg -r of a missing directory: %v", r)
	}
	if r := tm.run("pkg", "-r", mnt, "-c", mnt, "info"); r.code != 1 || !strings.Contains(r.err, "-j, -c and/or -r cannot be used at the same time!") {
		t.Errorf("pkg -r and -c together: %v", r)
	}
}

// TestStagedPkgScriptsNeedDevfs: under pkg -c the packages' scripts run
// in the chroot, and what they read of /dev is there only with devfs
// mounted; under -r they run on the host.
func TestStagedPkgScriptsNeedDevfs(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.3-RELEASE-p3", Packages: []PackageSpec{{Name: "keygen", PostInstallOpens: "/dev/random"}}})
	tm.env["PAGER"] = "cat"
	mnt := tm.mountNewBE("15.0")
	fu := []string{"freebsd-update", "--not-running-from-cron", "-b", mnt, "-d", mnt + "/var/db/freebsd-update", "--currently-running", "14.3-RELEASE-p3"}
	tm.mustOK("", append(fu, "-r", "15.0-RELEASE", "upgrade")...)
	tm.mustOK("", append(fu, "install")...)
	tm.mustOK("", append(fu, "install")...)
	tm.env["ASSUME_ALWAYS_YES"] = "yes"
	tm.env["IGNORE_OSVERSION"] = "yes"
	const failed = "pkg-static: POST-INSTALL script failed"
	r := tm.run("pkg-static", "-c", mnt, "upgrade", "-f", "-y")
	if r.code != 0 || !strings.Contains(r.err, "/bin/sh: cannot open /dev/random: No such file or directory\n"+failed) {
		t.Errorf("pkg -c without devfs in the chroot: %v", r)
	}
	if got := tm.must("pkg", "-r", mnt, "query", "%n %q"); !strings.Contains(got, "keygen FreeBSD:15:amd64\n") {
		t.Errorf("a failed POST-INSTALL script left the package out:\n%s", got)
	}
	if r := tm.run("pkg-static", "-r", mnt, "upgrade", "-f", "-y"); r.code != 0 || strings.Contains(r.err, failed) {
		t.Errorf("pkg -r runs the scripts on the host, which has devfs: %v", r)
	}
	tm.mustOK("", "mount", "-t", "devfs", "devfs", mnt+"/dev")
	if r := tm.run("pkg-static", "-c", mnt, "upgrade", "-f", "-y"); r.code != 0 || strings.Contains(r.err, failed) {
		t.Errorf("pkg -c with devfs in the chroot: %v", r)
	}
}

// TestStagedBectlDestroyMounted: be_destroy refuses a mounted boot
// environment unless -F, and -F cannot with devfs still inside.
func TestStagedBectlDestroyMounted(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	mnt := tm.mountNewBE("new")
	if r := tm.run("bectl", "destroy", "new"); r.code != 6 || r.err != "cannot destroy mounted boot env unless forced\n" {
		t.Errorf("destroy of a mounted boot environment: %v", r)
	}
	tm.mustOK("", "mount", "-t", "devfs", "devfs", mnt+"/dev")
	if r := tm.run("bectl", "destroy", "-F", "new"); r.code != 6 {
		t.Errorf("destroy -F with devfs mounted inside: %v", r)
	}
	tm.mustOK("", "umount", mnt+"/dev")
	tm.mustOK("", "bectl", "destroy", "-F", "new")
	if list := tm.must("bectl", "list", "-H"); strings.Contains(list, "new\t") {
		t.Errorf("bectl list -H after destroy -F:\n%s", list)
	}
	if got := tm.must("ls", "-1", "-A", mnt); got != "" {
		t.Errorf("the mount point after destroy -F holds %q", got)
	}
}

// TestStagedAdminPanic: simhost boot --panic BE, as a shell script would
// run it, reports the panic and the boot of the bootfs that follows.
func TestStagedAdminPanic(t *testing.T) {
	tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	tm.mustOK("", "bectl", "create", "-r", "new")
	tm.mustOK("", "bectl", "activate", "-t", "new")
	tm.mustOK("", "shutdown", "-r", "now")
	cmd := exec.Command(simhostBinary(t), "boot", "--root", tm.Root, "--no-hooks", "--panic", "new")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("simhost boot --panic new: %v\n%s", err, out)
	}
	var rep BootReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Booted || rep.BE != "zroot/ROOT/default" || !strings.Contains(strings.Join(rep.Console, "\n"), "panic: ") {
		t.Errorf("boot report: %+v", rep)
	}
}

// TestStagedResumeAfterPowerCut: a power cut during freebsd-update's world
// install into a mounted boot environment leaves the running system as it
// was; the pending state is in the boot environment, named after the
// BASEDIR path, so the install resumes only with the boot environment
// mounted at the same path again.
func TestStagedResumeAfterPowerCut(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	tm.env["PAGER"] = "cat"
	tm.mustOK("", "bectl", "create", "-r", "14.3")
	tm.mustOK("", "mkdir", "/mnt/stage")
	tm.mustOK("", "bectl", "mount", "14.3", "/mnt/stage")
	fu := func(mnt string, cmd ...string) []string {
		return append([]string{"freebsd-update", "--not-running-from-cron", "-b", mnt, "-d", mnt + "/var/db/freebsd-update", "--currently-running", "14.2-RELEASE"}, cmd...)
	}
	tm.mustOK("", fu("/mnt/stage", "-r", "14.3-RELEASE", "upgrade")...)
	tm.mustOK("", fu("/mnt/stage", "install")...)
	if err := tm.AddFault(Fault{Command: "freebsd-update", Args: "install", Action: FaultPowerCut}); err != nil {
		t.Fatal(err)
	}
	if r := tm.run(fu("/mnt/stage", "install")...); r.code != 137 {
		t.Fatalf("install #2 with the power cut: %v", r)
	}
	tm.mustBoot(BootOptions{})
	if got := tm.must("freebsd-version", "-kru"); got != "14.2-RELEASE\n14.2-RELEASE\n14.2-RELEASE\n" {
		t.Errorf("the running system after the cut: freebsd-version -kru = %q", got)
	}
	// Mounted elsewhere, BASEDIR's name is another: nothing pending there.
	other := strings.TrimSpace(tm.mustOK("", "bectl", "mount", "14.3"))
	if r := tm.run(fu(other, "updatesready")...); r.code != 2 {
		t.Errorf("updatesready with the boot environment at %s: %v", other, r)
	}
	tm.mustOK("", "bectl", "umount", "14.3")
	tm.mustOK("", "bectl", "mount", "14.3", "/mnt/stage")
	if r := tm.run(fu("/mnt/stage", "updatesready")...); r.code != 0 {
		t.Fatalf("updatesready with the boot environment at /mnt/stage again: %v", r)
	}
	for i := 0; i < 2 && tm.run(fu("/mnt/stage", "updatesready")...).code == 0; i++ {
		tm.mustOK("", fu("/mnt/stage", "install")...)
	}
	if r := tm.run(fu("/mnt/stage", "updatesready")...); r.code != 2 {
		t.Fatalf("still pending after resuming: %v", r)
	}
	if got := tm.must("cat", "/mnt/stage/bin/freebsd-version"); !strings.Contains(got, "14.3-RELEASE") {
		t.Errorf("the boot environment's userland after resuming: %q", got)
	}
}

// TestStagedSnapshotOfMounted: a snapshot of a mounted boot environment
// holds its files, which are at the mount point while it is mounted.
func TestStagedSnapshotOfMounted(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	mnt := tm.mountNewBE("new")
	tm.mustOK("", "cp", "/etc/rc.conf", mnt+"/etc/rc.conf.staged")
	tm.mustOK("", "zfs", "snapshot", "-r", "zroot@before")
	if _, err := os.Stat(filepath.Join(tm.storePath("zroot/ROOT/new@before"), "etc", "rc.conf.staged")); err != nil {
		t.Errorf("the snapshot of the mounted boot environment lacks its files: %v", err)
	}
	if got := tm.must("zfs", "list", "-H", "-t", "snapshot", "-o", "name"); !strings.Contains(got, "zroot/ROOT/new@before\n") {
		t.Errorf("zfs list -t snapshot:\n%s", got)
	}
}
