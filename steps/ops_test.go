// SPDX-License-Identifier: BSD-2-Clause

package steps_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/steps"
)

// everyOp is one operation of each kind, with the argv it renders.
var everyOp = []struct {
	op   steps.Op
	argv string
}{
	{&steps.MakeDir{Path: "/var/db/zupgrade/mnt/ada0p1"}, "mkdir -p /var/db/zupgrade/mnt/ada0p1"},
	{&steps.FixMetadataPath{Backup: "/var/db/zupgrade/backup/freebsd-update.orig"}, "cp -p /usr/sbin/freebsd-update /var/db/zupgrade/backup/freebsd-update.orig"},
	{&steps.FixMetadataPath{Backup: "/var/db/zupgrade/backup/freebsd-update.orig", Edit: true}, "sed -i '' -e s/=_/=%@_/ /usr/sbin/freebsd-update"},
	{&steps.CreateBootEnv{Name: "zupgrade-backup"}, "bectl create -r zupgrade-backup"},
	{&steps.DestroyBootEnv{Name: "14.3-RELEASE-p3_2026-11-30_101500"}, "bectl destroy 14.3-RELEASE-p3_2026-11-30_101500"},
	{&steps.Snapshot{Dataset: "zroot/ROOT/default", Name: "zupgrade-backup"}, "zfs snapshot -r zroot/ROOT/default@zupgrade-backup"},
	{&steps.FreebsdUpdate{Phase: "upgrade", Release: "14.2-RELEASE"}, "freebsd-update --not-running-from-cron -r 14.2-RELEASE upgrade"},
	{&steps.FreebsdUpdate{Phase: "fetch"}, "freebsd-update --not-running-from-cron fetch"},
	{&steps.FreebsdUpdate{Phase: "install", NoCron: true}, "freebsd-update install"},
	{&steps.WriteBootcode{Disk: "ada0", Scheme: "GPT", Partition: "ada0p2", Index: 2}, "gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 2 ada0"},
	{&steps.FormatESP{Disk: "ada1", ESP: "ada1p1"}, "newfs_msdos -F 32 -c 1 /dev/ada1p1"},
	{&steps.MountESP{Disk: "ada1", ESP: "ada1p1", MountPoint: "/var/db/zupgrade/mnt/ada1p1"}, "mount_msdosfs /dev/ada1p1 /var/db/zupgrade/mnt/ada1p1"},
	{&steps.UnmountESP{Disk: "ada1", ESP: "ada1p1", MountPoint: "/var/db/zupgrade/mnt/ada1p1"}, "umount /var/db/zupgrade/mnt/ada1p1"},
	{&steps.StageLoader{Disk: "ada0", ESP: "ada0p1", MountPoint: "/boot/efi", Source: "/boot/loader.efi", Path: "efi/freebsd/loader.efi"}, "cp /boot/loader.efi /boot/efi/efi/freebsd/loader.efi.new"},
	{&steps.PlaceLoader{Disk: "ada0", ESP: "ada0p1", MountPoint: "/boot/efi", Path: "efi/boot/bootx64.efi"}, "mv /boot/efi/efi/boot/bootx64.efi.new /boot/efi/efi/boot/bootx64.efi"},
	{&steps.CreateBootEntry{Disk: "ada1", ESP: "ada1p1", MountPoint: "/mnt"}, "efibootmgr -a -c -l /mnt/efi/freebsd/loader.efi -L 'FreeBSD ada1'"},
	{&steps.SetBootOrder{Order: []string{"0001", "0000", "0002"}}, "efibootmgr -o 0001,0000,0002"},
	{&steps.Sync{}, "sync"},
	{&steps.Packages{Action: "bootstrap"}, "pkg-static bootstrap -f"},
	{&steps.Packages{Action: "upgrade"}, "pkg-static upgrade -f -y"},
	{&steps.Packages{Action: "portmaster"}, "portmaster -aPf --no-confirm -G -D"},
	{&steps.Packages{Action: "compat", Major: 13}, "pkg-static install -y misc/compat13x"},
	{&steps.UpgradePool{Pool: "zroot"}, "zpool upgrade zroot"},
	{&steps.EnableFeature{Pool: "zroot", Feature: "draid"}, "zpool set feature@draid=enabled zroot"},
	{&steps.UpgradeFilesystems{Dataset: "zroot"}, "zfs upgrade -r zroot"},
	{&steps.InstallFile{Source: "/var/db/zupgrade/rc.d/zupgrade", Target: "/usr/local/etc/rc.d/zupgrade", Mode: "0555"}, "install -m 0555 /var/db/zupgrade/rc.d/zupgrade /usr/local/etc/rc.d/zupgrade"},
	{&steps.Sysrc{File: "/etc/rc.conf.d/zupgrade", Vars: []steps.RCVar{{Name: "zupgrade_enable", Value: "YES"}, {Name: "zupgrade_state_dir", Value: "/var/db/it's mine"}}}, "sysrc -f /etc/rc.conf.d/zupgrade zupgrade_enable=YES 'zupgrade_state_dir=/var/db/it'\\''s mine'"},
	{&steps.Sysrc{File: "/etc/rc.conf.d/zupgrade", Vars: []steps.RCVar{{Name: "zupgrade_enable"}, {Name: "zupgrade_log_dir"}}, Remove: true}, "sysrc -f /etc/rc.conf.d/zupgrade -x zupgrade_enable zupgrade_log_dir"},
	{&steps.Sysrc{Vars: []steps.RCVar{{Name: "zupgrade_enable"}}, Remove: true}, "sysrc -x zupgrade_enable"},
	{&steps.RemoveFile{Path: "/usr/local/etc/rc.d/zupgrade"}, "rm -f /usr/local/etc/rc.d/zupgrade"},
	{&steps.Reboot{}, "shutdown -r now"},
	{&steps.MountBootEnv{Name: "15.0-RELEASE", MountPoint: "/var/db/zupgrade-stage"}, "bectl mount 15.0-RELEASE /var/db/zupgrade-stage"},
	{&steps.UnmountBootEnv{Name: "15.0-RELEASE"}, "bectl umount 15.0-RELEASE"},
	{&steps.ActivateBootEnv{Name: "15.0-RELEASE", Temporary: true}, "bectl activate -t 15.0-RELEASE"},
	{&steps.ActivateBootEnv{Name: "15.0-RELEASE"}, "bectl activate 15.0-RELEASE"},
	{&steps.MountDevfs{MountPoint: "/var/db/zupgrade-stage/dev"}, "mount -t devfs devfs /var/db/zupgrade-stage/dev"},
	{&steps.UnmountDevfs{MountPoint: "/var/db/zupgrade-stage/dev"}, "umount /var/db/zupgrade-stage/dev"},
	{&steps.HealthCommand{Args: []string{"/usr/local/bin/check", "--all"}}, "/usr/local/bin/check --all"},
	{&steps.Watchdog{Timeout: 900}, "watchdog -t 900"},
	{&steps.Watchdog{}, "watchdog -t 0"},
	{&steps.FreebsdUpdate{Phase: "install", BaseDir: "/var/db/zupgrade-stage", CurrentlyRunning: "14.3-RELEASE-p3"}, "freebsd-update --not-running-from-cron -b /var/db/zupgrade-stage -d /var/db/zupgrade-stage/var/db/freebsd-update --currently-running 14.3-RELEASE-p3 install"},
	{&steps.Packages{Action: "upgrade", Chroot: "/var/db/zupgrade-stage"}, "pkg-static -c /var/db/zupgrade-stage upgrade -f -y"},
	{&steps.WriteBootcode{Disk: "ada0", Scheme: "GPT", Partition: "ada0p2", Index: 2, BootDir: "/var/db/zupgrade-stage/boot"}, "gpart bootcode -b /var/db/zupgrade-stage/boot/pmbr -p /var/db/zupgrade-stage/boot/gptzfsboot -i 2 ada0"},
}

// TestOpsRenderAndRoundTrip: every operation renders its argv, and a
// command survives the plan's JSON with its operation, kind and condition.
func TestOpsRenderAndRoundTrip(t *testing.T) {
	kinds := map[string]bool{}
	for _, c := range everyOp {
		if got := c.op.Command().Line(); got != c.argv {
			t.Errorf("%s renders %q, want %q", c.op.Kind(), got, c.argv)
		}
		kinds[c.op.Kind()] = true
		cmd := steps.Cmd{Op: c.op, Args: c.op.Command().Args, When: steps.Cond{If: steps.CondEntryCreated}}
		data, err := json.Marshal(cmd)
		if err != nil {
			t.Fatalf("%s: %v", c.op.Kind(), err)
		}
		if !strings.Contains(string(data), `"kind":"`+c.op.Kind()+`"`) {
			t.Errorf("%s: the JSON does not name the kind: %s", c.op.Kind(), data)
		}
		var back steps.Cmd
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("%s: reading %s back: %v", c.op.Kind(), data, err)
		}
		if diff := cmp.Diff(c.op, back.Op); diff != "" {
			t.Errorf("%s: the operation read back differs (-want +got):\n%s", c.op.Kind(), diff)
		}
		if back.When != cmd.When || host.QuoteArgs(back.Args) != c.argv {
			t.Errorf("%s: read back %+v", c.op.Kind(), back)
		}
	}
	if len(kinds) != 30 {
		t.Errorf("%d kinds of operation tested, want all 30", len(kinds))
	}
}

// TestCmdJSONRefuses: a command read back is refused when its operation
// is missing, unknown or invalid, its condition unknown, or its argv not
// the one its operation renders.
func TestCmdJSONRefuses(t *testing.T) {
	for _, c := range []struct{ name, doc, want string }{
		{"no operation", `{"args": ["bectl", "create", "-r", "x"]}`, "has no operation"},
		{"unknown kind", `{"op": {"kind": "format-disk"}, "args": ["gpart", "destroy", "ada0"]}`, `unknown operation "format-disk"`},
		{"invalid", `{"op": {"kind": "create-boot-env", "name": "-x"}, "args": ["bectl", "create", "-r", "-x"]}`, "operation create-boot-env"},
		{"relative path", `{"op": {"kind": "make-dir", "path": "mnt"}, "args": ["mkdir", "-p", "mnt"]}`, "not a clean absolute path"},
		{"edited argv", `{"op": {"kind": "reboot"}, "args": ["shutdown", "-p", "now"]}`, "changed by hand"},
		{"unknown condition", `{"op": {"kind": "sync"}, "args": ["sync"], "when": {"if": "full-moon"}}`, `unknown condition "full-moon"`},
		{"not json", `{"op": 3}`, "cannot unmarshal"},
		{"bad fields", `{"op": {"kind": "write-bootcode", "index": "two"}, "args": []}`, "operation write-bootcode"},
		{"bad mode", `{"op": {"kind": "install-file", "source": "/a", "target": "/b", "mode": "rwx"}, "args": ["install", "-m", "rwx", "/a", "/b"]}`, "not octal"},
		{"bad boot order", `{"op": {"kind": "set-boot-order", "order": ["1"]}, "args": ["efibootmgr", "-o", "1"]}`, "four hexadecimal digits"},
		{"bad phase", `{"op": {"kind": "freebsd-update", "phase": "rollback"}, "args": ["freebsd-update", "rollback"]}`, "unknown freebsd-update phase"},
		{"bad release", `{"op": {"kind": "freebsd-update", "phase": "upgrade", "release": "14.2-RELEASE-p3"}, "args": []}`, "cannot upgrade"},
		{"bad package action", `{"op": {"kind": "packages", "action": "autoremove"}, "args": []}`, "unknown package action"},
		{"bad compat", `{"op": {"kind": "packages", "action": "compat"}, "args": []}`, "compat packages of FreeBSD 0"},
		{"bad sysrc", `{"op": {"kind": "sysrc", "vars": [{"name": "a=b"}]}, "args": []}`, "not one zupgrade sets"},
		{"sysrc value in quotes", `{"op": {"kind": "sysrc", "vars": [{"name": "zupgrade_log_dir", "value": "/var/$HOME"}]}, "args": []}`, "not one zupgrade sets"},
		{"sysrc of nothing", `{"op": {"kind": "sysrc", "vars": []}, "args": ["sysrc"]}`, "names no variable"},
		{"sysrc relative file", `{"op": {"kind": "sysrc", "file": "rc.conf", "vars": [{"name": "a"}]}, "args": []}`, "not a clean absolute path"},
		{"bad ESP path", `{"op": {"kind": "place-loader", "mount_point": "/boot/efi", "path": "../x"}, "args": []}`, "not a clean relative path"},
		{"bad device", `{"op": {"kind": "format-esp", "esp": "-rf"}, "args": []}`, "not a device name"},
		{"bad condition path", `{"op": {"kind": "sync"}, "args": ["sync"], "when": {"if": "freebsd-program", "path": "x"}}`, "not absolute"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var cmd steps.Cmd
			err := json.Unmarshal([]byte(c.doc), &cmd)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
	if _, err := json.Marshal(steps.Cmd{Args: []string{"true"}}); err == nil {
		t.Error("a command without an operation was written")
	}
}

// TestCondString: each condition is said in English for the plan's text.
func TestCondString(t *testing.T) {
	for c, want := range map[steps.Cond]string{
		{}:                           "",
		{If: steps.CondInstallAsked}: "freebsd-update asked for it after the world install",
		{If: steps.CondNoFileSystem}: "file -s still finds no file system on it",
		{If: steps.CondFreeBSDProgram, Path: "/boot/efi/efi/boot/bootx64.efi", Program: "loader.efi"}: "/boot/efi/efi/boot/bootx64.efi is FreeBSD's loader.efi",
		{If: steps.CondNoLoaderEntry, ESP: "ada1p1"}:                                                  "no boot entry starts efi/freebsd/loader.efi on ada1p1",
		{If: steps.CondEntryCreated}:                                                                  "after efibootmgr -c: BootOrder as it was, the new entry last",
		{If: steps.CondStalePackages, Major: 13}:                                                      "packages remain built for FreeBSD 13 after the upgrade (--compat-libs)",
		{If: steps.CondPoolUpgradable, Pool: "tank"}:                                                  "the new system offers features tank lacks, all of them readable by the FreeBSD loader",
		{If: steps.CondOldFilesystems, Pool: "tank"}:                                                  "zfs upgrade lists file systems of tank below the current version",
		{If: "full-moon"}: "full-moon",
	} {
		if got := c.String(); got != want {
			t.Errorf("%+v says %q, want %q", c, got, want)
		}
		if c.IsZero() != (c.If == "") {
			t.Errorf("%+v: IsZero %v", c, c.IsZero())
		}
	}
}

// TestPlanBackup: the plan names its backup from the backup step's
// operation: a boot environment, or a snapshot where there are none.
func TestPlanBackup(t *testing.T) {
	p := steps.Build(exampleFacts(t, "mirror-bios-uefi"), steps.Options{To: "14.2-RELEASE", Now: journalTime})
	b, ok := p.Backup()
	if !ok || b.Dataset != "" || !strings.HasPrefix(b.Name, "zupgrade-") {
		t.Errorf("Backup() = %+v, %v; want a boot environment", b, ok)
	}
	p = steps.Build(exampleFacts(t, "legacy-8.2"), steps.Options{To: "9.0-RELEASE", Now: journalTime})
	b, ok = p.Backup()
	if !ok || b.Dataset == "" {
		t.Errorf("Backup() of a host without boot environments = %+v, %v; want a snapshot", b, ok)
	}
	p.Steps = nil
	if b, ok := p.Backup(); ok {
		t.Errorf("a plan without steps has backup %+v", b)
	}
}

// TestReadPlan: a saved plan reads back as written; one of another
// format, or no plan at all, is refused with what to do.
func TestReadPlan(t *testing.T) {
	p := steps.Build(exampleFacts(t, "mirror-bios-uefi"), steps.Options{To: "14.2-RELEASE", Now: journalTime})
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := steps.ReadPlan(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("the plan read back differs (-want +got):\n%s", diff)
	}
	old := strings.Replace(string(data), `"format":3`, `"format":2`, 1)
	if _, err := steps.ReadPlan([]byte(old)); err == nil || !strings.Contains(err.Error(), "make the plan again with this zupgrade") {
		t.Errorf("a format 2 plan: %v", err)
	}
	for _, bad := range []string{"#!/bin/sh", `{"format": 3, "steps": [{"commands": [{"args": ["true"]}]}]}`} {
		if _, err := steps.ReadPlan([]byte(bad)); err == nil || !strings.Contains(err.Error(), "is not a zupgrade plan") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestLoadRefusesOlderJournal: a journal of format 1, whose run an older
// zupgrade started, is refused, with how to finish it or return to its
// backup, and kept.
func TestLoadRefusesOlderJournal(t *testing.T) {
	for _, c := range []struct{ name, command, hint string }{
		{"boot environment", `["bectl", "create", "-r", "zupgrade-14.1-RELEASE-to-14.2-RELEASE-20261126T130509"]`, "(bectl activate zupgrade-14.1-RELEASE-to-14.2-RELEASE-20261126T130509, then reboot)"},
		{"snapshot", `["zfs", "snapshot", "-r", "zroot@zupgrade-8.2-RELEASE-to-9.0-RELEASE-20261126T130509"]`, "(the snapshot zroot@zupgrade-8.2-RELEASE-to-9.0-RELEASE-20261126T130509: see zfs-rollback(8))"},
		{"bad name", `["bectl", "create", "-r", "-x"]`, "roll back to its backup;"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			doc := `{"format": 1, "status": "running", "plan": {"format": 1, "steps": [{"id": "backup", "commands": [{"args": ` + c.command + `}]}]}, "steps": [{"id": "backup", "state": "done"}]}`
			if err := os.WriteFile(filepath.Join(dir, "journal.json"), []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := steps.Store{Dir: dir}.Load()
			if err == nil {
				t.Fatal("a format 1 journal was read")
			}
			for _, want := range []string{"written by an older zupgrade (journal format 1, this one reads 2)", "finish it with the zupgrade that started it", c.hint} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if got, _ := os.ReadFile(filepath.Join(dir, "journal.json")); string(got) != doc {
				t.Error("the journal was changed")
			}
		})
	}
}

// TestBackupNameFitsZFS: a backup boot environment whose dataset would be
// longer than ZFS allows is not planned; the step says why.
func TestBackupNameFitsZFS(t *testing.T) {
	f := exampleFacts(t, "mirror-bios-uefi")
	f.RootDataset = "zroot/" + strings.Repeat("r", 200) + "/default"
	p := steps.Build(f, steps.Options{To: "14.2-RELEASE", Now: journalTime})
	for _, s := range p.Steps {
		if s.ID == steps.StepBackup && (len(s.Commands) != 0 || !strings.Contains(s.Skip, "would be longer than")) {
			t.Errorf("backup step %+v; want it skipped for its length", s)
		}
	}
}
