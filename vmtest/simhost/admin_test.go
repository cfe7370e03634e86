// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAdminCommands drives simhost new, exec, boot, state and disk
// through the built binary, as a shell script would.
func TestAdminCommands(t *testing.T) {
	t.Parallel()
	bin := simhostBinary(t)
	dir := t.TempDir()
	spec := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(spec, []byte(`{"preset": "bios", "release": "13.2-RELEASE", "disks": 3, "naming": "gpt-label"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "m")
	run := func(want int, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		out, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != want {
			t.Fatalf("simhost %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out)
		}
		return string(out)
	}
	run(0, "new", "--spec", spec, "--root", root)
	run(2, "new", "--root", root)
	if out := run(0, "exec", "--root", root, "zpool", "status"); !strings.Contains(out, "\t    gpt/zfs2  ONLINE") {
		t.Errorf("simhost exec zpool status:\n%s", out)
	}
	run(0, "exec", "--root", root, "shutdown", "-r", "now")
	var rep BootReport
	if err := json.Unmarshal([]byte(run(0, "boot", "--root", root)), &rep); err != nil || !rep.Booted {
		t.Errorf("simhost boot: %v %+v", err, rep)
	}
	run(0, "disk", "remove", "ada0", "--root", root)
	run(0, "cut", "--root", root)
	var model Model
	if err := json.Unmarshal([]byte(run(0, "state", "--root", root)), &model); err != nil {
		t.Fatal(err)
	}
	if model.Power != PowerOff || !model.disk("ada0").Missing {
		t.Errorf("state after cut and disk removal: power %s, ada0 missing %v", model.Power, model.disk("ada0").Missing)
	}
	// ada0 is gone; ada1 has the same boot code and boots.
	if err := json.Unmarshal([]byte(run(0, "boot", "--root", root)), &rep); err != nil || rep.Disk != "ada1" {
		t.Errorf("boot without ada0: %v %+v", err, rep)
	}
	if out := run(0, "presets"); !strings.Contains(out, `"preset": "bios"`) {
		t.Errorf("presets: %s", out)
	}
}

// TestEfibootmgrChanges covers creating, ordering and one-time entries,
// and the firmware following them.
func TestEfibootmgrChanges(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "uefi", Release: "14.2-RELEASE", ESPs: "all"})
	tm.mustOK("", "mount_msdosfs", "/dev/ada1p1", "/mnt")
	tm.mustOK("", "mkdir", "-p", "/mnt/efi/freebsd")
	tm.mustOK("", "cp", "/boot/loader.efi", "/mnt/efi/freebsd/loader.efi")
	out := tm.mustOK("", "efibootmgr", "-a", "-c", "-l", "/mnt/efi/freebsd/loader.efi", "-L", "FreeBSD ada1")
	if !strings.Contains(out, "BootOrder  : 0003, 0000, 0001, 0002\n") || !strings.Contains(out, "Boot0003* FreeBSD ada1\n") {
		t.Errorf("efibootmgr -c:\n%s", out)
	}
	tm.mustOK("", "umount", "/mnt")
	rep := tm.reboot(BootOptions{})
	if !strings.HasPrefix(rep.Path, "Boot0003 FreeBSD ada1: ada1p1:/efi/freebsd/loader.efi") {
		t.Errorf("boot path %q", rep.Path)
	}
	tm.mustOK("", "efibootmgr", "-n", "0")
	rep = tm.reboot(BootOptions{})
	if !strings.HasPrefix(rep.Path, "Boot0000 FreeBSD: ada0p1") {
		t.Errorf("BootNext not followed: %q", rep.Path)
	}
	rep = tm.reboot(BootOptions{})
	if !strings.HasPrefix(rep.Path, "Boot0003") {
		t.Errorf("BootNext lasted two boots: %q", rep.Path)
	}
	tm.mustOK("", "efibootmgr", "-o", "0001,0000")
	tm.mustOK("", "efibootmgr", "-B", "-b", "3")
	if out := tm.must("efibootmgr"); !strings.Contains(out, "BootOrder  : 0001, 0000\n") || strings.Contains(out, "Boot0003") {
		t.Errorf("efibootmgr after -o and -B:\n%s", out)
	}
	if r := tm.run("efibootmgr", "-n", "7"); r.code != 1 {
		t.Errorf("BootNext to a missing entry: %v", r)
	}
}

// TestGpartShowVariants checks -p, -l and a removed disk.
func TestGpartShowVariants(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "13.2-RELEASE", DiskPrefix: "da"})
	if out := tm.must("gpart", "show", "-p", "da1"); !strings.Contains(out, "  da1p1  freebsd-boot  (512K)\n") {
		t.Errorf("gpart show -p:\n%s", out)
	}
	if out := tm.must("gpart", "show", "-l", "da0"); !strings.Contains(out, "  1  gptboot0  (512K)\n") || !strings.Contains(out, "  3  zfs0  (38G)\n") {
		t.Errorf("gpart show -l:\n%s", out)
	}
	if err := tm.RemoveDisk("da1"); err != nil {
		t.Fatal(err)
	}
	if out := tm.must("gpart", "list"); strings.Contains(out, "da1") {
		t.Errorf("gpart list shows the removed disk")
	}
	if r := tm.run("gpart", "show", "da1"); r.code != 1 || r.err != "gpart: No such geom: da1.\n" {
		t.Errorf("gpart show of a removed disk: %v", r)
	}
	fx := fixture(t, "gpart-list-bios-bsdinstall-da0.txt")
	out := tm.must("gpart", "list", "da0")
	// Same provider fields in the same order as a real 10.x host (12.0+
	// adds efimedia).
	keys := func(s string) []string {
		var k []string
		for _, l := range strings.Split(section(s, "1. Name: da0p1", "2. Name:"), "\n") {
			if f := strings.SplitN(strings.TrimSpace(l), ":", 2); len(f) == 2 && f[0] != "efimedia" {
				k = append(k, f[0])
			}
		}
		return k
	}
	if strings.Join(keys(out), ",") != strings.Join(keys(fx), ",") {
		t.Errorf("provider fields %v, fixture %v", keys(out), keys(fx))
	}
}
