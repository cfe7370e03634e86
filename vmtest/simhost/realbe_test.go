// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealZFSBootEnvironmentFiles: on real OpenZFS a boot environment's
// files are in its real dataset: bectl create puts the running system's
// into the running boot environment's dataset before the real snapshot,
// so the real clone holds them; bectl mount mounts the real clone, and
// what is written there lands in it; the boot reads the boot environment
// from its real dataset, so a real clone that holds something else (here
// no kernel) is what the loader finds.
func TestRealZFSBootEnvironmentFiles(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "14.2-RELEASE", Disks: 2})
	dir := fakeRealZFS(t)
	if err := tm.UseRealZFS(dir); err != nil {
		t.Fatal(err)
	}
	realFile := func(dataset, path string) string {
		data, _ := os.ReadFile(filepath.Join(dir, "ds", strings.ReplaceAll(dataset, "/", "%"), path))
		return string(data)
	}
	tm.must("bectl", "create", "-r", "next")
	version, _ := os.ReadFile(tm.HostPath("/bin/freebsd-version"))
	if got := realFile("zroot/ROOT/next", "bin/freebsd-version"); got == "" || got != string(version) {
		t.Fatalf("the real clone's /bin/freebsd-version is %q, the running system's %q", got, version)
	}
	if realFile("zroot/ROOT/next", "be-name") != "" {
		t.Error("the real clone kept a file the running system does not have")
	}
	mnt := strings.TrimSpace(tm.must("bectl", "mount", "next"))
	if _, d := tm.model().dataset("zroot/ROOT/next"); d == nil || !d.RealFiles || d.Mounted != mnt {
		t.Fatalf("bectl mount next at %s: the model says %+v", mnt, d)
	}
	os.WriteFile(tm.HostPath(mnt+"/etc/staged-marker"), []byte("written into the mounted boot environment\n"), 0o644)
	tm.must("bectl", "umount", "next")
	if got := realFile("zroot/ROOT/next", "etc/staged-marker"); got == "" {
		t.Fatal("what was written into the mounted boot environment is not in its real dataset")
	}
	tm.must("bectl", "activate", "-t", "next")
	tm.must("shutdown", "-r", "now")
	rep := tm.mustBoot(BootOptions{NoHooks: true})
	if rep.BE != "zroot/ROOT/next" {
		t.Fatalf("booted %s, want the one-time zroot/ROOT/next", rep.BE)
	}
	if _, err := os.Stat(tm.HostPath("/etc/staged-marker")); err != nil {
		t.Error("the boot environment that booted lacks what its real dataset holds")
	}

	// A second boot environment whose real clone loses its kernel behind
	// the model's back: the loader finds none there.
	tm.must("bectl", "create", "-r", "broken")
	mnt = strings.TrimSpace(tm.must("bectl", "mount", "broken"))
	tm.must("bectl", "umount", "broken")
	os.Remove(filepath.Join(dir, "ds", "zroot%ROOT%broken", "boot", "kernel", "kernel"))
	tm.must("bectl", "activate", "-t", "broken")
	tm.must("shutdown", "-r", "now")
	if rep := tm.boot(BootOptions{NoHooks: true}); rep.Booted || !strings.Contains(rep.Reason, "can't load 'kernel' from zroot/ROOT/broken") {
		t.Errorf("booted a boot environment whose real dataset holds no kernel: %s", rep.Reason)
	}
}
