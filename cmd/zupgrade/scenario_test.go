// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// Whole upgrades on simulated hosts, each ending with a host that boots the
// target release from every disk of the boot pool.
func TestUpgradeScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("whole upgrades on simulated hosts take seconds each; not in -short")
	}
	tests := []struct {
		name string
		spec simhost.Spec
		to   string
	}{
		// Packages built for a newer 14.x than 14.2: pkg's OSVERSION
		// question must not stall the run.
		{"BIOS 2-way mirror 13.4 to 14.2", simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", Disks: 2, RepoOSVersion: map[string]int{"14": 1403000}}, "14.2-RELEASE"},
		{"BIOS+UEFI 3-way mirror with labels 14.3 to 15.0", simhost.Spec{Preset: "bios+uefi", Release: "14.3-RELEASE-p6", Disks: 3, Naming: "gpt-label", ESPs: "all"}, "15.0-RELEASE"},
		{"UEFI-only nda mirror 14.2 to 14.3", simhost.Spec{Preset: "uefi", Release: "14.2-RELEASE", Disks: 2, DiskPrefix: "nda", ESPs: "all"}, "14.3-RELEASE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, tt.spec)
			code, log := h.runUpgrade(nil, "--to", tt.to)
			h.assertDone(code, log)
			h.assertBootsEverywhere(tt.to)
			if got := h.sh("uname", "-r"); !strings.HasPrefix(got, tt.to) {
				t.Errorf("running %s, want %s", got, tt.to)
			}
			if !strings.HasPrefix(tt.to, "9.") { // freebsd-version came with 10.0
				if got := h.sh("freebsd-version", "-u"); !strings.HasPrefix(got, tt.to) {
					t.Errorf("userland %s, want %s", got, tt.to)
				}
			}
			h.assertRunLog()
			if !strings.Contains(log, "[1/13] Preflight checks (preflight)") || !strings.Contains(log, "      | Kernel updates have been installed.") {
				t.Errorf("no step lines or streamed child output in the terminal output:\n%s", log)
			}
		})
	}
}

// bootCount counts the boots a runUpgrade log shows.
func bootCount(log string) int { return strings.Count(log, "\n--- boot, hook exit") }

func TestPatchUpdate(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Run("patches touching the kernel: one reboot", func(t *testing.T) {
		t.Parallel()
		h := newHost(t, simhost.Spec{Preset: "bios+uefi", Release: "14.3-RELEASE-p5", ESPs: "all", Updates: map[string]int{"14.3-RELEASE": 6}})
		code, log := h.runUpgrade(nil)
		h.assertDone(code, log)
		if got := h.sh("freebsd-version", "-kru"); got != "14.3-RELEASE-p6\n14.3-RELEASE-p6\n14.3-RELEASE-p6\n" {
			t.Errorf("freebsd-version -kru = %q", got)
		}
		if n := bootCount(log); n != 1 {
			t.Errorf("%d reboots, want 1:\n%s", n, log)
		}
		h.assertBootsEverywhere("14.3-RELEASE")
	})
	t.Run("nothing published: no reboot", func(t *testing.T) {
		t.Parallel()
		h := newHost(t, simhost.Spec{Preset: "bios", Release: "14.3-RELEASE-p6", Updates: map[string]int{"14.3-RELEASE": 6}})
		code, log := h.runUpgrade(nil)
		h.assertDone(code, log)
		if n := bootCount(log); n != 0 {
			t.Errorf("%d reboots, want none:\n%s", n, log)
		}
		if !strings.Contains(log, "No updates needed") {
			t.Errorf("fetch did not report that nothing is needed:\n%s", log)
		}
	})
}

// TestEN2518First: 14.3 -> 15.0 is blocked until EN-25:18 is installed;
// a patch run brings it, then the upgrade goes through.
func TestEN2518First(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios+uefi", Release: "14.3-RELEASE-p5", Disks: 3, Naming: "gpt-label", ESPs: "all", Updates: map[string]int{"14.3-RELEASE": 6}})
	code, out := h.zupgrade(nil, "plan", "--to", "15.0-RELEASE")
	if code != ExitBlocked || !strings.Contains(out, "[block] EN-25:18 installed before upgrading to 15") {
		t.Fatalf("plan without EN-25:18: exit %d\n%s", code, out)
	}
	code, out = h.zupgrade(nil, "apply", "--to", "15.0-RELEASE")
	if code != ExitBlocked {
		t.Fatalf("apply without EN-25:18: exit %d\n%s", code, out)
	}
	if h.journal() != nil {
		t.Fatal("a blocked apply left a journal")
	}
	code, log := h.runUpgrade(nil)
	h.assertDone(code, log)
	code, log = h.runUpgrade(nil, "--to", "15.0-RELEASE")
	h.assertDone(code, log)
	h.assertBootsEverywhere("15.0-RELEASE")
}

// TestInstallFailsThenResumes: freebsd-update install fails once (a full
// disk, a mirror that went away); the run stops with exit 1 and its state
// kept, and the next apply finishes it.
func TestInstallFailsThenResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE"})
	if err := h.m.AddFault(simhost.Fault{Command: "freebsd-update", Args: "install", Action: simhost.FaultFail, Message: "install: /usr: No space left on device"}); err != nil {
		t.Fatal(err)
	}
	code, log := h.runUpgrade(nil, "--to", "14.2-RELEASE")
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitFailed, log)
	}
	j := h.journal()
	if j.Status != "failed" || !strings.Contains(j.Message, "install-kernel") || !strings.Contains(j.Message, "No space left on device") {
		t.Errorf("journal after the failure: %s: %s", j.Status, j.Message)
	}
	code, out := h.zupgrade(nil, "status")
	if code != 0 || !strings.Contains(out, "> ") || !strings.Contains(out, "Install the new kernel") {
		t.Errorf("status after the failure:\n%s", out)
	}
	code, log = h.runUpgrade(nil)
	h.assertDone(code, log)
	h.assertBootsEverywhere("14.2-RELEASE")
}

// TestDiskVanishesBeforeBootcode: a disk of the mirror dies before the boot
// code step; zupgrade writes nothing and stops, naming it.
func TestDiskVanishesBeforeBootcode(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE"})
	before, err := h.m.Model()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.m.AddFault(simhost.Fault{Command: "freebsd-update", Args: "install", Action: simhost.FaultRemoveDisk, Disk: "ada1"}); err != nil {
		t.Fatal(err)
	}
	code, log := h.runUpgrade(nil, "--to", "14.2-RELEASE")
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitFailed, log)
	}
	j := h.journal()
	if r := j.Record("bootcode"); r.State != "started" || !strings.Contains(j.Message, "ada1") || !strings.Contains(j.Message, "nothing was written") {
		t.Errorf("journal: bootcode %s; %s", r.State, j.Message)
	}
	after, err := h.m.Model()
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range after.Disks {
		if string(d.BootArea) != string(before.Disks[i].BootArea) {
			t.Errorf("%s: boot area written", d.Name)
		}
		for k, p := range d.Partitions {
			if string(p.Data) != string(before.Disks[i].Partitions[k].Data) {
				t.Errorf("%s index %d written", d.Name, p.Index)
			}
		}
	}
	if strings.Contains(log, "gpart bootcode") {
		t.Errorf("gpart bootcode ran:\n%s", log)
	}
}

// TestPlanChangesNothing runs plan and inspect on a simulated host and
// compares the machine before and after: disks, pools, boot environments,
// files and firmware are untouched.
func TestPlanChangesNothing(t *testing.T) {
	h := newHost(t, simhost.Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", Disks: 3, Naming: "gpt-label"})
	snapshot := func() string {
		m, err := h.m.Model()
		if err != nil {
			t.Fatal(err)
		}
		// The command counter, history and clock move with every command.
		m.Commands, m.History, m.Clock = 0, nil, time.Time{}
		return jsonOf(m) + h.sh("ls", "-1", "/usr/local/etc/rc.d") + h.sh("cat", "/etc/rc.conf")
	}
	before := snapshot()
	for _, args := range [][]string{
		{"inspect"}, {"inspect", "--json"}, {"plan", "--to", "14.2-RELEASE"}, {"plan"}, {"plan", "--to", "15.0-RELEASE", "--json"},
	} {
		code, out := h.zupgrade(nil, args...)
		if code != 0 && code != ExitBlocked {
			t.Fatalf("%v: exit %d\n%s", args, code, out)
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("plan changed the host:\n%s", lineDiff(before, after))
	}
	if _, err := os.Stat(h.state); err == nil {
		t.Errorf("plan created the state directory %s", h.state)
	}
}

// lineDiff lists the lines of b that a lacks and the other way round.
func lineDiff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// TestSecondESPNeverFormatted is the installer's habit of formatting only
// the first disk's ESP: the plan says so, and --format-esps makes every disk
// bootable on its own.
func TestSecondESPNeverFormatted(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", Disks: 2, Firmware: "UEFI"})
	code, out := h.zupgrade(nil, "plan", "--to", "14.2-RELEASE")
	if code != 0 || !strings.Contains(out, "ada1p1 on ada1 was never formatted") || !strings.Contains(out, "--format-esps") {
		t.Fatalf("plan does not report the unformatted ESP (exit %d):\n%s", code, out)
	}
	code, out = h.zupgrade(nil, "plan", "--to", "14.2-RELEASE", "--format-esps")
	if code != 0 || !strings.Contains(out, "$ newfs_msdos -F 32 -c 1 /dev/ada1p1") {
		t.Fatalf("plan --format-esps (exit %d):\n%s", code, out)
	}
	code, log := h.runUpgrade(nil, "--to", "14.2-RELEASE", "--format-esps")
	h.assertDone(code, log)
	h.assertBootsEverywhere("14.2-RELEASE")
	// ada1 has a boot entry of its own now, and only one.
	if n := strings.Count(h.sh("efibootmgr", "-v"), "ada1p1:/efi/freebsd/loader.efi"); n != 1 {
		t.Errorf("%d boot entries for ada1's loader, want 1:\n%s", n, h.sh("efibootmgr", "-v"))
	}

	// Without the option the upgrade goes through, but the firmware cannot
	// boot from ada1 alone: what the plan warned about.
	u := newHost(t, simhost.Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", Disks: 2, Firmware: "UEFI"})
	code, log = u.runUpgrade(nil, "--to", "14.2-RELEASE")
	u.assertDone(code, log)
	if rep := u.boot(simhost.BootOptions{FirstDisk: "ada1", NoHooks: true}); rep.Disk == "ada1" {
		t.Errorf("booted from ada1 without an ESP file system: %+v", rep)
	}
}

// TestMergeConflictDoesNotHang: freebsd-update cannot merge a configuration
// file and would wait for an editor for ever; the run stops at once, names
// the file and keeps its state.
func TestMergeConflictDoesNotHang(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "14.3-RELEASE-p6", Conflicts: []string{"/etc/pkg/FreeBSD.conf"}})
	// A run that waited for the editor would be reported hung by the
	// helper's guard; it must end by itself, from the conflict's message.
	code, log := h.runUpgrade(nil, "--to", "15.0-RELEASE")
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitFailed, log)
	}
	j := h.journal()
	if j.Status != "failed" || !strings.Contains(j.Message, "/etc/pkg/FreeBSD.conf") {
		t.Errorf("journal: %s: %s", j.Status, j.Message)
	}
	h.killMachineProcesses()
}

// TestCaptureThenReplay: a capture made on a host plans, on any machine,
// exactly what the host itself plans.
func TestCaptureThenReplay(t *testing.T) {
	h := newHost(t, simhost.Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", Disks: 3, Naming: "gpt-label", ESPs: "all"})
	capture := filepath.Join(t.TempDir(), "host.txtar")
	if code, out := h.zupgrade(nil, "inspect", "--capture", capture); code != 0 {
		t.Fatalf("inspect --capture: exit %d\n%s", code, out)
	}
	direct := filepath.Join(t.TempDir(), "direct.json")
	replayed := filepath.Join(t.TempDir(), "replayed.json")
	if code, out := h.zupgrade(nil, "plan", "--to", "14.2-RELEASE", "-o", direct); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, out)
	}
	// The replay runs with a PATH that holds nothing: it must not need the host.
	zup, _ := binaries(t)
	cmd := exec.Command(zup, "--state-dir", h.state, "plan", "--replay", capture, "--to", "14.2-RELEASE", "-o", replayed)
	cmd.Env = []string{"PATH=" + t.TempDir()}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("plan --replay: %v\n%s", err, out)
	}
	norm := func(p string) string {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var plan map[string]any
		if err := json.Unmarshal(data, &plan); err != nil {
			t.Fatal(err)
		}
		delete(plan["options"].(map[string]any), "created")
		// Where the state directory is (df) is asked on the host, not
		// captured.
		delete(plan["options"].(map[string]any), "state_dataset")
		// The backup's name carries the time the plan was made.
		b, _ := json.Marshal(plan)
		return regexpBackupTime.ReplaceAllString(string(b), "TIME")
	}
	if a, b := norm(direct), norm(replayed); a != b {
		t.Errorf("the replayed plan differs from the plan made on the host:\n%s", lineDiff(a, b))
	}
}

var regexpBackupTime = regexp.MustCompile(`\d{8}T\d{6}`)

// TestNoReboot: a fleet tool reboots hosts itself. apply --no-reboot stops
// at each checkpoint with exit 3; after the tool's reboot the boot hook goes
// on and stops at the next checkpoint again; the run ends after the last.
func TestNoReboot(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE"})
	code, out := h.zupgrade(nil, "apply", "--to", "14.2-RELEASE", "--no-reboot")
	if code != ExitCheckpoint {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitCheckpoint, out)
	}
	if j := h.journal(); j.Status != "checkpoint" || j.Record("reboot-kernel").State != "started" {
		t.Fatalf("journal %s at %+v", j.Status, j.Current())
	}
	if h.down() {
		t.Fatal("the host went down although --no-reboot was given")
	}
	// The fleet tool reboots: the hook resumes and stops at the final
	// checkpoint, the host stays up.
	h.boot(simhost.BootOptions{})
	h.wait()
	if j := h.journal(); j.Status != "checkpoint" || j.Record("reboot-final").State != "started" || h.down() {
		t.Fatalf("after the first reboot: %s at %+v, down %v", j.Status, j.Current(), h.down())
	}
	// This time the tool reboots with the hook off and runs apply itself:
	// the changed boot time tells the final checkpoint its reboot happened.
	h.boot(simhost.BootOptions{NoHooks: true})
	code, out = h.zupgrade(nil, "apply")
	h.assertDone(code, out)
	h.assertBootsEverywhere("14.2-RELEASE")
}

// TestCompatibilityHonoured: a pool whose compatibility property names
// OpenZFS 2.1 on FreeBSD keeps to it across an upgrade to 14.2: features of
// later versions stay disabled.
func TestCompatibilityHonoured(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", Compatibility: "openzfs-2.1-freebsd"})
	code, log := h.runUpgrade(nil, "--to", "14.2-RELEASE")
	h.assertDone(code, log)
	h.assertBootsEverywhere("14.2-RELEASE")
	features := h.sh("zpool", "get", "-H", "-p", "all")
	for _, f := range []string{"block_cloning", "vdev_zaps_v2", "head_errlog"} {
		if !strings.Contains(features, "zroot\tfeature@"+f+"\tdisabled") {
			t.Errorf("%s is not disabled after the upgrade:\n%s", f, features)
		}
	}
}

// TestESPFull: an ESP without room for the new loader beside the old one is
// not written to (a torn loader leaves the disk unbootable); the run stops
// and says how much room it needs.
func TestESPFull(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", ESPs: "all"})
	// Shrink ada1's ESP to 2.5 MiB and fill it with a vendor's tools.
	err := h.m.Update(func(m *simhost.Model) error {
		for _, d := range m.Disks {
			if d.Name != "ada1" {
				continue
			}
			for _, p := range d.Partitions {
				if p.Type == "efi" {
					p.Size = (5 << 20) / 2 / int64(d.SectorSize)
					vendor := &simhost.FATFile{Path: "vendor/diag.bin", Data: bytes.Repeat([]byte{0x5a}, 2<<20+470<<10)}
					p.FAT.Files = append(p.FAT.Files, vendor)
					p.FAT.Synced = append(p.FAT.Synced, vendor)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	code, log := h.runUpgrade(nil, "--to", "14.2-RELEASE")
	j := h.journal()
	if code != ExitFailed || j.Record("bootcode").State != "started" || !strings.Contains(j.Message, "free") || !strings.Contains(j.Message, "nothing was written to it") {
		t.Fatalf("exit %d, journal %s: %s\n%s", code, j.Status, j.Message, log)
	}
	if strings.Contains(log, "ada1p1/efi/freebsd/loader.efi.new") {
		t.Errorf("a loader was copied onto the full ESP:\n%s", log)
	}
}

// TestRollback: before the pool upgrade, rollback boots the backup boot
// environment (the old release); after it, rollback refuses, since the old
// kernel could not import the upgraded pool.
func TestRollback(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE"})
	code, out := h.zupgrade(nil, "apply", "--to", "14.2-RELEASE", "--no-reboot")
	if code != ExitCheckpoint {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	h.boot(simhost.BootOptions{NoHooks: true}) // the new kernel runs now
	if code, out := h.zupgrade(nil, "rollback"); code != 0 {
		t.Fatalf("rollback: exit %d\n%s", code, out)
	}
	rep := h.boot(simhost.BootOptions{})
	if !strings.HasPrefix(rep.Kernel, "13.4-RELEASE") || !strings.Contains(rep.BE, "zupgrade-13.4-RELEASE-to-14.2-RELEASE-") {
		t.Errorf("after rollback: kernel %s from %s", rep.Kernel, rep.BE)
	}
	// The backup holds the state directory as it was when it was taken:
	// no boot hook runs, and the run stands before its upgrade.
	for _, hk := range rep.Hooks {
		if strings.HasSuffix(hk.Script, "/zupgrade") {
			t.Errorf("the boot hook ran in the backup: %+v", hk)
		}
	}
	if r := h.journal().Record("upgrade"); r.State != "pending" {
		t.Errorf("upgrade step %s in the backup's journal", r.State)
	}

	u := newHost(t, simhost.Spec{Preset: "bios", Release: "13.4-RELEASE"})
	code, log := u.runUpgrade(nil, "--to", "14.2-RELEASE")
	u.assertDone(code, log)
	code, out = u.zupgrade(nil, "rollback")
	if code != ExitFailed || !strings.Contains(out, "cannot import") {
		t.Errorf("rollback after the pool upgrade: exit %d\n%s", code, out)
	}
}
