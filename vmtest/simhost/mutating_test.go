// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"
)

// commandCase is one command of a sequence run on a machine: its exit
// status and exact output, or (when check is set) whatever check says.
type commandCase struct {
	argv  []string
	code  int
	out   string
	err   string
	check func(tm *testMachine, r result) error
}

// runSequence runs the cases in order on tm.
func runSequence(t *testing.T, tm *testMachine, cases []commandCase) {
	t.Helper()
	for i, c := range cases {
		r := tm.run(c.argv...)
		if r.code != c.code {
			t.Errorf("%d: %s: exit %d, want %d\n%v", i, strings.Join(c.argv, " "), r.code, c.code, r)
			continue
		}
		if c.check != nil {
			if err := c.check(tm, r); err != nil {
				t.Errorf("%d: %s: %v", i, strings.Join(c.argv, " "), err)
			}
			continue
		}
		if r.out != c.out || r.err != c.err {
			t.Errorf("%d: %s: got stdout %q stderr %q, want %q and %q", i, strings.Join(c.argv, " "), r.out, r.err, c.out, c.err)
		}
	}
}

// sameAs checks that a command printed exactly the content of a file of
// the machine (a loader read back from an ESP, for instance).
func sameAs(file string) func(*testMachine, result) error {
	return func(tm *testMachine, r result) error {
		want, err := os.ReadFile(tm.HostPath(file))
		if err != nil {
			return err
		}
		if r.out != string(want) {
			return fmt.Errorf("printed %d bytes that differ from %s (%d bytes)", len(r.out), file, len(want))
		}
		return nil
	}
}

// startsWith checks that a read of a partition begins with a file of the
// machine and is whole sectors long.
func startsWith(file string, sectors int) func(*testMachine, result) error {
	return func(tm *testMachine, r result) error {
		want, err := os.ReadFile(tm.HostPath(file))
		if err != nil {
			return err
		}
		if len(r.out) != sectors*512 || !strings.HasPrefix(r.out, string(want)) {
			return fmt.Errorf("read %d bytes, want %d starting with %s", len(r.out), sectors*512, file)
		}
		return nil
	}
}

// mbrSector checks sector 0 of a GPT disk: pmbr's first 446 bytes, the
// protective entry (type 0xee from LBA 1 to the end of the disk) and the
// 0x55 0xaa signature.
func mbrSector(disk string) func(*testMachine, result) error {
	return func(tm *testMachine, r result) error {
		pmbr, err := os.ReadFile(tm.HostPath("/boot/pmbr"))
		if err != nil {
			return err
		}
		s := []byte(r.out)
		if len(s) != 512 {
			return fmt.Errorf("read %d bytes, want 512", len(s))
		}
		if !bytes.Equal(s[:446], pmbr[:446]) {
			return fmt.Errorf("bytes 0-445 are not pmbr's")
		}
		var d *Disk
		for _, x := range tm.model().Disks {
			if x.Name == disk {
				d = x
			}
		}
		if d == nil {
			return fmt.Errorf("no disk %s", disk)
		}
		entry := []byte{0, 0, 2, 0, 0xee, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0}
		binary.LittleEndian.PutUint32(entry[12:], uint32(d.Sectors-1))
		if !bytes.Equal(s[446:462], entry) {
			return fmt.Errorf("protective entry % x, want % x", s[446:462], entry)
		}
		if !bytes.Equal(s[462:510], make([]byte, 48)) || s[510] != 0x55 || s[511] != 0xaa {
			return fmt.Errorf("entries 2-4 or the signature are wrong: % x", s[462:])
		}
		return nil
	}
}

// mode checks the permission bits of a file of the machine.
func mode(file string, want os.FileMode) func(*testMachine, result) error {
	return func(tm *testMachine, r result) error {
		st, err := os.Stat(tm.HostPath(file))
		if err != nil {
			return err
		}
		if st.Mode().Perm() != want {
			return fmt.Errorf("%s has mode %o, want %o", file, st.Mode().Perm(), want)
		}
		return nil
	}
}

// sectorsOf is how many 512-byte sectors a file of the machine fills.
func sectorsOf(tm *testMachine, file string) int {
	tm.t.Helper()
	st, err := os.Stat(tm.HostPath(file))
	if err != nil {
		tm.t.Fatal(err)
	}
	return int((st.Size() + 511) / 512)
}

// TestMutatingCommands runs, with their exact flags and in apply's order,
// the mutating commands of docs/commands.md and the read-backs apply makes
// between them (zfs list of the backup snapshot, dd of the boot partitions
// and of sector 0, cat of the loaders on mounted ESPs), on a 14.2
// BIOS+UEFI mirror and on an 8.2 BIOS host, which has neither bectl nor
// sysrc and is enabled through /etc/rc.conf.d.
func TestMutatingCommands(t *testing.T) {
	const (
		state = "/var/db/zupgrade"
		mnt   = state + "/mnt/ada1p1"
	)
	hookFiles := func(tm *testMachine) {
		tm.writeMachineFile(state+"/rc.d/zupgrade", rcconfHook, 0o644)
		tm.writeMachineFile(state+"/rc.d/zupgrade.conf", "zupgrade_enable=\"YES\"\n", 0o644)
	}

	t.Run("14.2 bios+uefi", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "14.2-RELEASE", Disks: 2, ESPs: "all", Portmaster: true})
		hookFiles(tm)
		gz := sectorsOf(tm, "/boot/gptzfsboot")
		runSequence(t, tm, []commandCase{
			{argv: []string{"mkdir", "-p", state + "/backup"}},
			{argv: []string{"cp", "-p", "/usr/sbin/freebsd-update", state + "/backup/freebsd-update.orig"}, check: func(tm *testMachine, r result) error {
				return sameAs("/usr/sbin/freebsd-update")(tm, tm.run("cat", state+"/backup/freebsd-update.orig"))
			}},
			{argv: []string{"sed", "-i", "", "-e", "s/=_/=%@_/", "/usr/sbin/freebsd-update"}},
			{argv: []string{"bectl", "create", "-r", "zupgrade-before"}},
			{argv: []string{"zfs", "snapshot", "-r", "zroot/ROOT/default@zupgrade-before"}},
			{argv: []string{"zfs", "list", "-H", "-t", "snapshot", "-o", "name", "zroot/ROOT/default@zupgrade-before"}, out: "zroot/ROOT/default@zupgrade-before\n"},
			{argv: []string{"zfs", "list", "-H", "-o", "name", "zroot/ROOT/default@zupgrade-before"}, out: "zroot/ROOT/default@zupgrade-before\n"},
			{argv: []string{"zfs", "list", "-H", "-t", "snapshot", "-o", "name", "zroot/ROOT/default@missing"}, code: 1, err: "cannot open 'zroot/ROOT/default@missing': dataset does not exist\n"},
			{argv: []string{"zfs", "list", "-H", "-t", "snapshot", "-o", "name", "zroot/ROOT/nobe@zupgrade-before"}, code: 1, err: "cannot open 'zroot/ROOT/nobe@zupgrade-before': dataset does not exist\n"},
			{argv: []string{"install", "-m", "0555", state + "/rc.d/zupgrade", "/usr/local/etc/rc.d/zupgrade"}, check: mode("/usr/local/etc/rc.d/zupgrade", 0o555)},
			{argv: []string{"sysrc", "zupgrade_enable=YES"}, out: "zupgrade_enable:  -> YES\n"},
			{argv: []string{"service", "-e"}, out: "/usr/local/etc/rc.d/zupgrade\n"},
			{argv: []string{"sysrc", "-x", "zupgrade_enable"}},
			{argv: []string{"sysrc", "-x", "zupgrade_enable"}, code: 1, err: "sysrc: unknown variable 'zupgrade_enable'\n"},
			{argv: []string{"sysrc", "-i", "-x", "zupgrade_enable"}, code: 1},
			{argv: []string{"service", "-e"}},
			{argv: []string{"mkdir", "-p", "/etc/rc.conf.d"}},
			{argv: []string{"mkdir", "-p", "/etc/rc.conf.d"}},
			{argv: []string{"install", "-m", "0644", state + "/rc.d/zupgrade.conf", "/etc/rc.conf.d/zupgrade"}, check: mode("/etc/rc.conf.d/zupgrade", 0o644)},
			{argv: []string{"service", "-e"}, out: "/usr/local/etc/rc.d/zupgrade\n"},
			{argv: []string{"ls", "-1", "/etc/rc.conf.d/zupgrade"}, out: "/etc/rc.conf.d/zupgrade\n"},
			{argv: []string{"rm", "-f", "/usr/local/etc/rc.d/zupgrade"}},
			{argv: []string{"rm", "-f", "/etc/rc.conf.d/zupgrade"}},
			{argv: []string{"rm", "-f", "/etc/rc.conf.d/zupgrade"}},
			{argv: []string{"rm", "/etc/rc.conf.d/zupgrade"}, code: 1, err: "rm: /etc/rc.conf.d/zupgrade: No such file or directory\n"},
			{argv: []string{"gpart", "bootcode", "-b", "/boot/pmbr", "-p", "/boot/gptzfsboot", "-i", "2", "ada1"}, out: "partcode written to ada1p2\nbootcode written to ada1\n"},
			{argv: []string{"dd", "if=/dev/ada1p2", "bs=512", fmt.Sprintf("count=%d", gz)}, check: startsWith("/boot/gptzfsboot", gz)},
			{argv: []string{"dd", "if=/dev/ada1", "bs=512", "count=1"}, check: mbrSector("ada1")},
			{argv: []string{"dd", "if=/dev/ada0", "bs=512", "count=1"}, check: mbrSector("ada0")},
			{argv: []string{"cat", "/boot/efi/efi/freebsd/loader.efi"}, check: sameAs("/boot/loader.efi")},
			{argv: []string{"mkdir", "-p", mnt}},
			{argv: []string{"mount_msdosfs", "/dev/ada1p1", mnt}},
			{argv: []string{"cat", mnt + "/efi/freebsd/loader.efi"}, check: sameAs("/boot/loader.efi")},
			{argv: []string{"cat", mnt + "/efi/boot/bootx64.efi"}, check: sameAs("/boot/loader.efi")},
			{argv: []string{"cat", mnt + "/efi/boot/missing.efi"}, code: 1, err: "cat: " + mnt + "/efi/boot/missing.efi: No such file or directory\n"},
			{argv: []string{"mkdir", "-p", mnt + "/efi/freebsd", mnt + "/efi/boot"}},
			{argv: []string{"cp", "/boot/loader.efi", mnt + "/efi/freebsd/loader.efi.new"}},
			{argv: []string{"mv", mnt + "/efi/freebsd/loader.efi.new", mnt + "/efi/freebsd/loader.efi"}},
			{argv: []string{"sync"}},
			{argv: []string{"umount", mnt}},
			{argv: []string{"zpool", "upgrade", "zroot"}, check: func(*testMachine, result) error { return nil }},
			{argv: []string{"zfs", "upgrade", "-r", "zroot/ROOT/default"}, check: func(*testMachine, result) error { return nil }},
			{argv: []string{"portmaster", "-aPf", "--no-confirm", "-G", "-D"}, check: func(tm *testMachine, r result) error {
				if !strings.Contains(r.out, "===>>> Done displaying messages from ports\n") {
					return fmt.Errorf("output %q", r.out)
				}
				return nil
			}},
			{argv: []string{"shutdown", "-r", "now"}, check: func(*testMachine, result) error { return nil }},
		})
	})

	t.Run("8.2 bios", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios", Release: "8.2-RELEASE", Disks: 2})
		hookFiles(tm)
		gz := sectorsOf(tm, "/boot/gptzfsboot")
		runSequence(t, tm, []commandCase{
			{argv: []string{"bectl", "create", "-r", "zupgrade-before"}, code: 127, err: "bectl: Command not found.\n"},
			{argv: []string{"zfs", "snapshot", "-r", "zroot@zupgrade-before"}},
			{argv: []string{"zfs", "list", "-H", "-t", "snapshot", "-o", "name", "zroot@zupgrade-before"}, out: "zroot@zupgrade-before\n"},
			{argv: []string{"install", "-m", "0555", state + "/rc.d/zupgrade", "/usr/local/etc/rc.d/zupgrade"}, check: mode("/usr/local/etc/rc.d/zupgrade", 0o555)},
			{argv: []string{"sysrc", "zupgrade_enable=YES"}, code: 127, err: "sysrc: Command not found.\n"},
			{argv: []string{"mkdir", "-p", "/etc/rc.conf.d"}},
			{argv: []string{"install", "-m", "0644", state + "/rc.d/zupgrade.conf", "/etc/rc.conf.d/zupgrade"}, check: mode("/etc/rc.conf.d/zupgrade", 0o644)},
			{argv: []string{"service", "-e"}, out: "/usr/local/etc/rc.d/zupgrade\n"},
			{argv: []string{"rm", "-f", "/usr/local/etc/rc.d/zupgrade"}},
			{argv: []string{"rm", "-f", "/etc/rc.conf.d/zupgrade"}},
			{argv: []string{"service", "-e"}},
			{argv: []string{"gpart", "bootcode", "-b", "/boot/pmbr", "-p", "/boot/gptzfsboot", "-i", "1", "ada1"}, out: "ada1 has bootcode\n"},
			{argv: []string{"dd", "if=/dev/ada1p1", "bs=512", fmt.Sprintf("count=%d", gz)}, check: startsWith("/boot/gptzfsboot", gz)},
			{argv: []string{"dd", "if=/dev/ada1", "bs=512", "count=1"}, check: mbrSector("ada1")},
		})
	})
}
