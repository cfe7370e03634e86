// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestFaults covers the injected failures.
func TestFaults(t *testing.T) {
	t.Run("a command fails once", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE", Faults: []*Fault{{Command: "gpart", Args: "bootcode", Action: FaultFail, Exit: 1, Message: "gpart: /dev/ada1p1: Input/output error"}}})
		before := tm.model().partition("ada1", 1).Data
		r := tm.run("gpart", "bootcode", "-p", "/boot/gptzfsboot", "-i", "1", "ada1")
		if r.code != 1 || r.err != "gpart: /dev/ada1p1: Input/output error\n" {
			t.Errorf("first gpart bootcode: %v", r)
		}
		if string(tm.model().partition("ada1", 1).Data) != string(before) {
			t.Errorf("the failed command changed the partition")
		}
		tm.mustOK("", "gpart", "bootcode", "-p", "/boot/gptzfsboot", "-i", "1", "ada1")
	})
	t.Run("a command hangs once (from the environment)", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
		faults, _ := json.Marshal([]Fault{{Command: "zpool", Args: "status", Action: FaultHang}})
		tm.env[FaultsEnv] = string(faults)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		var out, errb strings.Builder
		code := tm.Exec(ctx, []string{"zpool", "status"}, nil, &out, &errb, tm.env)
		// It returned once the context ended, not before.
		if code != 143 || ctx.Err() == nil {
			t.Errorf("hung zpool status: exit %d, the context's end %v", code, ctx.Err())
		}
		if r := tm.run("zpool", "status"); r.code != 0 {
			t.Errorf("second zpool status: %v", r)
		}
	})
	t.Run("a disk disappears at a given point", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE", Faults: []*Fault{{Command: "gpart", Args: "ada1", Action: FaultRemoveDisk, Disk: "ada1"}}})
		tm.mustOK("", "gpart", "bootcode", "-p", "/boot/gptzfsboot", "-i", "1", "ada0")
		r := tm.run("gpart", "bootcode", "-p", "/boot/gptzfsboot", "-i", "1", "ada1")
		if r.code != 1 || r.err != "gpart: No such geom: ada1.\n" {
			t.Errorf("gpart on the disk that just disappeared: %v", r)
		}
		if got := tm.must("zpool", "status"); !strings.Contains(got, "state: DEGRADED") || !strings.Contains(got, "UNAVAIL      0     0     0  was /dev/ada1p3") {
			t.Errorf("zpool status:\n%s", got)
		}
	})
	t.Run("power cut after N commands", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE", Faults: []*Fault{{After: 3, Action: FaultPowerCut}}})
		for i := 0; i < 3; i++ {
			tm.mustOK("", "uname", "-r")
		}
		if r := tm.run("uname", "-r"); r.code != 137 {
			t.Errorf("fourth command: %v", r)
		}
		if m := tm.model(); m.Power != PowerOff || m.Running != nil {
			t.Errorf("after the cut: power %s, running %v", m.Power, m.Running)
		}
		if r := tm.run("uname", "-r"); r.code != 137 {
			t.Errorf("command on a machine without power: %v", r)
		}
		rep := tm.mustBoot(BootOptions{})
		if strings.Contains(strings.Join(rep.Console, "\n"), "shut down cleanly") {
			t.Errorf("the boot after a power cut says the shutdown was clean")
		}
	})
}

// TestPowerCutDurability checks what survives a power cut. FAT has no journal:
// a loader copied over the old one and not synced is torn; the safe
// sequence (copy to .new, sync, rename) keeps a working loader.
func TestPowerCutDurability(t *testing.T) {
	t.Run("unsynced copy over the loader", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "uefi", Release: "14.2-RELEASE", Disks: 1})
		tm.mustOK("", "cp", "/boot/loader.efi", "/boot/efi/efi/freebsd/loader.efi")
		if err := tm.PowerCut(); err != nil {
			t.Fatal(err)
		}
		f := tm.model().partition("ada0", 1).FAT.lookup("efi/freebsd/loader.efi")
		if f == nil || len(f.Data) != 0 {
			t.Errorf("unsynced loader after the cut: %+v, want an empty file", f)
		}
		rep := tm.mustBoot(BootOptions{})
		if !strings.Contains(rep.Path, "BOOTX64.EFI") {
			t.Errorf("the firmware should fall back to bootx64.efi: %s\n%s", rep.Path, strings.Join(rep.Console, "\n"))
		}
	})
	t.Run("copy, sync, rename, cut", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "uefi", Release: "14.2-RELEASE", Disks: 1})
		old := tm.model().partition("ada0", 1).FAT.lookup("efi/freebsd/loader.efi").Data
		tm.mustOK("", "cp", "/boot/loader.efi", "/boot/efi/efi/freebsd/loader.efi.new")
		tm.mustOK("", "sync")
		tm.mustOK("", "mv", "/boot/efi/efi/freebsd/loader.efi.new", "/boot/efi/efi/freebsd/loader.efi")
		if err := tm.PowerCut(); err != nil {
			t.Fatal(err)
		}
		fat := tm.model().partition("ada0", 1).FAT
		if f := fat.lookup("efi/freebsd/loader.efi"); f == nil || string(f.Data) != string(old) {
			t.Errorf("the loader after the cut is not the old one")
		}
		if f := fat.lookup("efi/freebsd/loader.efi.new"); f == nil || len(f.Data) == 0 {
			t.Errorf("the synced .new file was lost")
		}
		tm.mustBoot(BootOptions{})
	})
	t.Run("freebsd-update install cut during the world", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios", Release: "13.2-RELEASE"})
		tm.env["PAGER"] = "cat"
		tm.mustOK("", "freebsd-update", "--not-running-from-cron", "-r", "14.2-RELEASE", "upgrade")
		tm.mustOK("", "freebsd-update", "--not-running-from-cron", "install")
		tm.reboot(BootOptions{})
		if err := tm.AddFault(Fault{Command: "freebsd-update", Args: "install", Action: FaultPowerCut}); err != nil {
			t.Fatal(err)
		}
		if r := tm.run("freebsd-update", "--not-running-from-cron", "install"); r.code != 137 {
			t.Fatalf("install with a power cut: %v", r)
		}
		tm.mustBoot(BootOptions{})
		if got := tm.must("ls", "-1", installDir); strings.Contains(got, "worlddone") || !strings.Contains(got, "kerneldone") {
			t.Errorf("markers after the cut: %q", got)
		}
		if got := tm.must("ls", "-1", "/lib"); !strings.Contains(got, "libcrypto.so.30") {
			t.Errorf("the new libraries (installed first) are missing after the cut:\n%s", got)
		}
		out := tm.mustOK("", "freebsd-update", "--not-running-from-cron", "install")
		if !strings.Contains(out, "Completing this upgrade requires removing old shared object files.") {
			t.Errorf("install after the cut:\n%s", out)
		}
		if got := tm.must("freebsd-version", "-u"); got != "14.2-RELEASE\n" {
			t.Errorf("freebsd-version -u = %q", got)
		}
	})
	t.Run("reset of a running machine", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "uefi", Release: "14.2-RELEASE", Disks: 1, ESPInFstab: new(bool)})
		tm.mustOK("", "mount_msdosfs", "/dev/ada0p1", "/mnt")
		rep := tm.mustBoot(BootOptions{})
		if !strings.Contains(strings.Join(rep.Console, "\n"), "reset") {
			t.Errorf("boot of a running machine is not a reset: %v", rep.Console)
		}
		for _, mt := range tm.model().Running.Mounts {
			if mt.Point == "/mnt" {
				t.Errorf("a mount survived the reset")
			}
		}
	})
}

// TestConcurrentCommands runs commands from several goroutines: the lock
// keeps the model whole and every command counted.
func TestConcurrentCommands(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	const workers, each = 6, 15
	var wg sync.WaitGroup
	errs := make(chan string, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				var argv []string
				if i%2 == 0 {
					argv = []string{"sysrc", "-f", "/etc/rc.conf.local", "w" + string(rune('a'+w)) + "=" + string(rune('a'+i))}
				} else {
					argv = []string{"zpool", "status"}
				}
				var out, errb strings.Builder
				if code := tm.Exec(context.Background(), argv, nil, &out, &errb, tm.env); code != 0 {
					errs <- strings.Join(argv, " ") + ": " + errb.String()
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	m := tm.model()
	if m.Commands != workers*each {
		t.Errorf("commands counted: %d, want %d", m.Commands, workers*each)
	}
	conf := tm.must("cat", "/etc/rc.conf.local")
	if strings.Count(conf, "\n") != workers {
		t.Errorf("rc.conf.local lost updates:\n%s", conf)
	}
}
