// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeOpenZFS stands in for the real zpool and zfs (the test binary,
// linked under those names into a directory of its own): it appends its
// argv to calls.log beside it and keeps a pool zroot that knows every
// feature of simhost's table (as the guest's newer OpenZFS does), their
// states in the file features beside it (at first async_destroy enabled,
// head_errlog active, the others disabled): zpool get lists them all,
// zpool upgrade enables every one, zpool set feature@NAME=enabled one,
// zpool status says features are not enabled while one is disabled;
// zpool set bootfs=DS keeps DS in the file bootfs. With a file members
// beside it (the paths the pool's members' labels record, one a line),
// zpool replace finds the old device as zpool_find_vdev does
// (lib/libzfs/libzfs_pool.c: a full path as it is, a short name as
// /dev/NAME) and fails as zpool_vdev_attach does when no member has it,
// else records the new device's path in its place.
func fakeOpenZFS(name string, args []string) int {
	dir := filepath.Dir(os.Args[0])
	f, err := os.OpenFile(filepath.Join(dir, "calls.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return 99
	}
	fmt.Fprintln(f, name+" "+strings.Join(args, " "))
	f.Close()
	state := map[string]string{"async_destroy": "enabled", "head_errlog": "active"}
	if data, err := os.ReadFile(filepath.Join(dir, "features")); err == nil {
		state = map[string]string{}
		for _, line := range strings.Split(string(data), "\n") {
			if n, v, ok := strings.Cut(line, " "); ok {
				state[n] = v
			}
		}
	}
	save := func() {
		var b strings.Builder
		for n, v := range state {
			fmt.Fprintf(&b, "%s %s\n", n, v)
		}
		os.WriteFile(filepath.Join(dir, "features"), []byte(b.String()), 0o644)
	}
	switch {
	case name == "zpool" && len(args) > 0 && args[0] == "get":
		bootfs := "zroot/ROOT/default"
		if data, err := os.ReadFile(filepath.Join(dir, "bootfs")); err == nil {
			bootfs = string(data)
		}
		fmt.Printf("zroot\tversion\t-\t\nzroot\tbootfs\t%s\nzroot\tcompatibility\toff\n", bootfs)
		for _, f := range featureTable {
			v := state[f.Name]
			if v == "" {
				v = "disabled"
			}
			fmt.Printf("zroot\tfeature@%s\t%s\n", f.Name, v)
		}
		return 0
	case name == "zpool" && len(args) > 0 && args[0] == "status":
		// As OpenZFS 2.3's zpool status prints a mirror whose
		// features are not all enabled (libzfs_status.c check_status
		// ZPOOL_STATUS_FEAT_DISABLED, zpool_main.c status_callback).
		fmt.Print("  pool: zroot\n state: ONLINE\n")
		for _, f := range featureTable {
			if state[f.Name] == "" || state[f.Name] == "disabled" {
				fmt.Print(fakeFeatDisabled)
				break
			}
		}
		fmt.Print("config:\n\n\tNAME        STATE     READ WRITE CKSUM\n\tzroot       ONLINE       0     0     0\n\t  mirror-0  ONLINE       0     0     0\n\t    ada0p4  ONLINE       0     0     0\n\t    ada1p4  ONLINE       0     0     0\n\nerrors: No known data errors\n")
		return 0
	case name == "zpool" && len(args) > 0 && args[0] == "upgrade":
		fmt.Println("This system supports ZFS pool feature flags.\n\nEnabled the following features on 'zroot':")
		for _, f := range featureTable {
			if state[f.Name] == "" {
				state[f.Name] = "enabled"
				fmt.Println("  " + f.Name)
			}
		}
		save()
		return 0
	case name == "zpool" && len(args) == 3 && args[0] == "set" && strings.HasPrefix(args[1], "feature@"):
		n, v, _ := strings.Cut(strings.TrimPrefix(args[1], "feature@"), "=")
		if state[n] == "" {
			state[n] = v
		}
		save()
		return 0
	case name == "zpool" && len(args) == 3 && args[0] == "set" && strings.HasPrefix(args[1], "bootfs="):
		os.WriteFile(filepath.Join(dir, "bootfs"), []byte(strings.TrimPrefix(args[1], "bootfs=")), 0o644)
		return 0
	case name == "zpool" && len(args) > 0 && args[0] == "replace":
		return fakeReplace(dir, args[1:])
	case name == "zfs" || name == "mount" || name == "umount":
		return fakeDatasets(dir, name, args)
	case name == "zpool" && len(args) > 0 && args[0] == "bogus":
		fmt.Fprintln(os.Stderr, "unrecognized command 'bogus'")
		return 2
	}
	return 0
}

// fakeReplace is the fake's zpool replace [-f] POOL OLD [NEW] (see
// fakeOpenZFS).
func fakeReplace(dir string, args []string) int {
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "-f" })
	if len(args) < 2 {
		return 2
	}
	oldDev := args[1]
	newDev := oldDev
	if len(args) > 2 {
		newDev = args[2]
	}
	data, err := os.ReadFile(filepath.Join(dir, "members"))
	if err != nil {
		return 0
	}
	path := func(dev string) string {
		if strings.HasPrefix(dev, "/") {
			return dev
		}
		return "/dev/" + dev
	}
	members := strings.Fields(string(data))
	i := slices.Index(members, path(oldDev))
	if i < 0 {
		fmt.Fprintf(os.Stderr, "cannot replace %s with %s: no such device in pool\n", oldDev, newDev)
		return 1
	}
	members[i] = path(newDev)
	os.WriteFile(filepath.Join(dir, "members"), []byte(strings.Join(members, "\n")+"\n"), 0o644)
	return 0
}

// fakeFeatDisabled is the status and action of zpool status for a pool
// with features not enabled (zpool_main.c status_callback,
// ZPOOL_STATUS_FEAT_DISABLED; the same text in zfs-2.2.6 and zfs-2.3.0).
const fakeFeatDisabled = "status: Some supported and requested features are not enabled on the pool.\n\tThe pool can still be used, but some features are unavailable.\naction: Enable all features using 'zpool upgrade'. Once this is done,\n\tthe pool may no longer be accessible by software that does not support\n\tthe features. See zpool-features(7) for details.\n"

// fakeRealZFS makes a directory with zpool, zfs, mount and umount linked
// to the test binary (fakeOpenZFS).
func fakeRealZFS(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, n := range []string{"zpool", "zfs", "mount", "umount"} {
		if err := os.Symlink(exe, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRealZFSBackend: with UseRealZFS, zpool and zfs are the real
// programs with the command's arguments, output and exit status; the
// model's pool takes the real pool's features, compatibility and bootfs
// after each zpool command and before a boot; bectl's snapshot, clone and
// bootfs are made on the real pool too. Without it nothing real runs.
func TestRealZFSBackend(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "13.4-RELEASE", Disks: 2})
	dir := fakeRealZFS(t)
	calls := func() string {
		data, _ := os.ReadFile(filepath.Join(dir, "calls.log"))
		return string(data)
	}
	tm.must("zpool", "status")
	if calls() != "" {
		t.Fatalf("real programs ran before UseRealZFS:\n%s", calls())
	}
	if err := tm.UseRealZFS("relative/dir"); err == nil {
		t.Error("UseRealZFS took a relative directory")
	}
	if err := tm.UseRealZFS(dir); err != nil {
		t.Fatal(err)
	}
	out := tm.must("zpool", "upgrade", "zroot")
	if !strings.Contains(out, "Enabled the following features on 'zroot':\n  empty_bpobj\n  lz4_compress") || strings.Contains(out, "fast_dedup") {
		t.Errorf("zpool upgrade on 13.4 does not say it enabled 13.4's features and no others:\n%s", out)
	}
	if r := tm.run("zpool", "bogus"); r.code != 2 || !strings.Contains(r.err, "unrecognized command 'bogus'") {
		t.Errorf("a failing real zpool: %v, want its exit status 2 and its message", r)
	}
	p := tm.model().pool("zroot")
	if p.Features["lz4_compress"] != "enabled" || p.Features["draid"] != "enabled" || p.Features["fast_dedup"] != "" || p.Features["head_errlog"] != "active" ||
		p.Compatibility != "off" || p.Bootfs != "zroot/ROOT/default" || p.Version != 5000 {
		t.Errorf("the model's pool after zpool upgrade of the real pool: features %v, compatibility %q, bootfs %q, version %d; want 13.4's enabled, head_errlog active, no fast_dedup, off, zroot/ROOT/default, 5000",
			p.Features, p.Compatibility, p.Bootfs, p.Version)
	}
	tm.must("zfs", "upgrade")
	tm.must("bectl", "create", "-r", "backup")
	tm.must("bectl", "activate", "backup")
	got := calls()
	for _, w := range []string{
		"zpool get -H -p -o name,property,value all\nzpool set feature@empty_bpobj=enabled zroot\nzpool set feature@lz4_compress=enabled zroot\n",
		"zfs upgrade\n",
		"zfs snapshot -r zroot/ROOT/default@",
		"zfs clone -o canmount=noauto zroot/ROOT/default@",
		" zroot/ROOT/backup\n",
		"zpool set bootfs=zroot/ROOT/backup zroot\n",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("the real programs were not run with %q; they ran:\n%s", w, got)
		}
	}
	if _, d := tm.model().dataset("zroot/ROOT/backup"); d == nil {
		t.Error("bectl create made no boot environment in the model")
	}
	os.Remove(filepath.Join(dir, "calls.log"))
	tm.must("shutdown", "-r", "now")
	tm.boot(BootOptions{NoHooks: true})
	if !strings.HasPrefix(calls(), "zpool get -H -p -o name,property,value all\n") {
		t.Errorf("the boot did not read the real pool first; the real programs ran:\n%s", calls())
	}
}

// TestRealDisks: with UseRealDisks, gpart bootcode writes the boot code
// into the real disk (sector 0 before the partition table, the partition
// code at the start of the partition) and the boot decision reads it back
// from there: a disk whose real freebsd-boot partition was zeroed behind
// the model's back does not boot, though the model still held its code.
func TestRealDisks(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "13.4-RELEASE", Disks: 2})
	dev := t.TempDir()
	mbr := bytes.Repeat([]byte{0xee}, 512) // a partition table after byte 446
	for _, d := range []string{"ada0", "ada1"} {
		os.WriteFile(filepath.Join(dev, d), mbr, 0o644)
		os.WriteFile(filepath.Join(dev, d+"p1"), make([]byte, 512*1024), 0o644)
	}
	if err := tm.UseRealDisks(dev); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"ada0", "ada1"} {
		tm.must("gpart", "bootcode", "-b", "/boot/pmbr", "-p", "/boot/gptzfsboot", "-i", "1", d)
	}
	pmbr, _ := os.ReadFile(tm.HostPath("/boot/pmbr"))
	gz, _ := os.ReadFile(tm.HostPath("/boot/gptzfsboot"))
	for _, d := range []string{"ada0", "ada1"} {
		sector0, _ := os.ReadFile(filepath.Join(dev, d))
		if want := pmbr[:min(446, len(pmbr))]; !bytes.HasPrefix(sector0, want) {
			t.Errorf("%s's sector 0 does not start with /boot/pmbr", d)
		}
		if !bytes.Equal(sector0[446:], mbr[446:]) {
			t.Errorf("%s: gpart bootcode wrote over the partition table", d)
		}
		part, _ := os.ReadFile(filepath.Join(dev, d+"p1"))
		if !bytes.HasPrefix(part, gz) || len(bytes.TrimRight(part[len(gz):], "\x00")) != 0 {
			t.Errorf("%sp1 does not hold /boot/gptzfsboot, zero-padded", d)
		}
	}
	tm.must("shutdown", "-r", "now")
	tm.mustBoot(BootOptions{FirstDisk: "ada1", NoHooks: true})
	os.WriteFile(filepath.Join(dev, "ada1p1"), make([]byte, 512*1024), 0o644)
	tm.must("shutdown", "-r", "now")
	if rep := tm.boot(BootOptions{FirstDisk: "ada1", NoHooks: true}); rep.Booted || !strings.Contains(rep.Reason, "ada1p1 holds no gptzfsboot") {
		t.Errorf("booted from a disk whose real freebsd-boot partition is zeroed: %s", rep.Reason)
	}
	// The admin replaces ada1 (a new disk in its place, with boot code and
	// a partition table of its own): the real disk gets the boot code,
	// the model its table, and the real pool the replace.
	writeRealGPT(t, tm.model().Disks[1], filepath.Join(dev, "ada1"))
	zdir := fakeRealZFS(t)
	if err := tm.UseRealZFS(zdir); err != nil {
		t.Fatal(err)
	}
	if err := tm.ReplaceDisk(Replacement{Disk: "ada1", Bootcode: true}); err != nil {
		t.Fatal(err)
	}
	if part, _ := os.ReadFile(filepath.Join(dev, "ada1p1")); !bytes.HasPrefix(part, gz) {
		t.Error("the replacement's real freebsd-boot partition does not hold /boot/gptzfsboot")
	}
	if calls, _ := os.ReadFile(filepath.Join(zdir, "calls.log")); !strings.Contains(string(calls), "zpool replace -f zroot ada1p3\n") {
		t.Errorf("the real pool's member was not replaced; the real programs ran:\n%s", calls)
	}
}

// fakeDatasets keeps the files of the fake's datasets and snapshots, one
// directory each under ds/ beside it (/ written %): zfs snapshot [-r]
// DS@S and zfs clone [-o ...] SNAP TARGET copy them, mount -t zfs [-o ro]
// DS DIR copies a dataset's files into DIR and umount DIR copies them
// back (unless read-only) and empties DIR. A dataset that has no
// directory yet starts with the file be-name naming it.
func fakeDatasets(dir, name string, args []string) int {
	ds := func(n string) string {
		p := filepath.Join(dir, "ds", strings.ReplaceAll(n, "/", "%"))
		if _, err := os.Stat(p); err != nil {
			os.MkdirAll(p, 0o755)
			os.WriteFile(filepath.Join(p, "be-name"), []byte(n+"\n"), 0o644)
		}
		return p
	}
	record := func(point string) string {
		return filepath.Join(dir, "mounts", strings.ReplaceAll(point, "/", "%"))
	}
	copyInto := func(src, dst string) int {
		os.RemoveAll(dst)
		if err := copyTree(src, dst, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	empty := func(d string) {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			os.RemoveAll(filepath.Join(d, e.Name()))
		}
	}
	switch {
	case name == "zfs" && len(args) >= 2 && args[0] == "snapshot":
		target := args[len(args)-1]
		src, _, _ := strings.Cut(target, "@")
		return copyInto(ds(src), filepath.Join(dir, "ds", strings.ReplaceAll(target, "/", "%")))
	case name == "zfs" && len(args) >= 3 && args[0] == "clone":
		return copyInto(ds(args[len(args)-2]), filepath.Join(dir, "ds", strings.ReplaceAll(args[len(args)-1], "/", "%")))
	case name == "mount":
		point, dataset := args[len(args)-1], args[len(args)-2]
		ro := len(args) == 6 && args[3] == "ro"
		os.MkdirAll(filepath.Join(dir, "mounts"), 0o755)
		mode := "rw"
		if ro {
			mode = "ro"
		}
		os.WriteFile(record(point), []byte(mode+" "+dataset), 0o644)
		empty(point)
		if err := copyTree(ds(dataset), point, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	case name == "umount":
		data, err := os.ReadFile(record(args[0]))
		if err != nil {
			fmt.Fprintf(os.Stderr, "umount: %s: not mounted\n", args[0])
			return 1
		}
		mode, dataset, _ := strings.Cut(string(data), " ")
		if mode == "rw" {
			if rc := copyInto(args[0], ds(dataset)); rc != 0 {
				return rc
			}
		}
		empty(args[0])
		os.Remove(record(args[0]))
		return 0
	}
	return 0
}
