// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	diskfs "github.com/diskfs/go-diskfs"
)

// TestSeedDisk: the seed disk is a FAT file system labelled cidata (as
// nuageinit finds it) holding nuageinit's files, zupgrade, the agent and
// the job, arguments one a line; what the agent writes into out/ is read
// back.
func TestSeedDisk(t *testing.T) {
	job := Job{Kind: JobApply, Apply: []string{"--to", "15.0-RELEASE", "--format-esps"}, CrashAt: "bootcode:after-run", CrashIsCut: true}
	files, err := SeedFiles("major", []string{"ada1", "ada2"}, job, []byte("\x7fELF zupgrade"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "seed.img")
	if err := WriteSeedDisk(path, files); err != nil {
		t.Fatal(err)
	}
	d, err := diskfs.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := d.GetFilesystem(0)
	if err != nil {
		t.Fatal(err)
	}
	if l := strings.TrimSpace(fsys.Label()); l != "cidata" {
		t.Errorf("label %q, want cidata (nuageinit looks for /dev/msdosfs/cidata)", l)
	}
	want := map[string]string{
		"args": "--to\n15.0-RELEASE\n--format-esps\n", "kind": "apply\n", "crash_at": "bootcode:after-run", "crash_is_cut": "yes\n",
		"zupgrade": "\x7fELF zupgrade", "vmtest.rc": string(imageAgent),
		"meta-data": "instance-id: vmtest-major\nlocal-hostname: vmtest\n",
	}
	for name, w := range want {
		got, err := fsys.ReadFile(name)
		if err != nil || string(got) != w {
			t.Errorf("%s: %q, %v; want %q", name, got, err, w)
		}
	}
	ud, _ := fsys.ReadFile("user-data")
	for _, w := range []string{"#!/bin/sh\n", "install -m 555 \"$seed/zupgrade\" /usr/local/sbin/zupgrade", "sysrc vmtest_enable=YES",
		"gpart backup ada0 | gpart restore -F ada1", "gpart backup ada0 | gpart restore -F ada2",
		`zpool attach -w "$pool" "$leaf" /dev/ada2p"$zidx"`, "cp /boot/loader.efi /mnt/esp/efi/boot/bootx64.efi", "poweroff\n"} {
		if !bytes.Contains(ud, []byte(w)) {
			t.Errorf("user-data lacks %q:\n%s", w, ud)
		}
	}
	// The agent's report, as it writes it.
	f, err := fsys.OpenFile("/out/kernel", os.O_CREATE|os.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("15.0-RELEASE\n"))
	f.Close()
	d.Close()
	out, err := readSeedOut(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(out["kernel"]) != "15.0-RELEASE\n" {
		t.Errorf("out/: %q", out)
	}
	for _, bad := range []struct {
		mirrors []string
		job     Job
		want    string
	}{
		{[]string{"ada1; rm -rf /"}, Job{Kind: JobApply}, "mirror disk"},
		{nil, Job{Kind: JobApply, Apply: []string{"a\nb"}}, "newline"},
	} {
		if _, err := SeedFiles("x", bad.mirrors, bad.job, nil); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("SeedFiles(%q, %q) = %v, want %q", bad.mirrors, bad.job.Apply, err, bad.want)
		}
	}
}

// TestImageScripts: the agent and the provisioning script are valid sh
// (and clean for shellcheck where it is installed).
func TestImageScripts(t *testing.T) {
	dir := t.TempDir()
	scripts := map[string]string{"agent": string(imageAgent), "user-data": seedUserData([]string{"ada1", "ada2"}), "user-data-single": seedUserData(nil)}
	for name, body := range scripts {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("sh", "-n", p).CombinedOutput(); err != nil {
			t.Errorf("%s: sh -n: %v\n%s", name, err, out)
		}
		if _, err := exec.LookPath("shellcheck"); err == nil {
			if out, err := exec.Command("shellcheck", "-s", "sh", "-e", "SC1091,SC2034", p).CombinedOutput(); err != nil {
				t.Errorf("%s: shellcheck: %v\n%s", name, err, out)
			}
		}
	}
}

// TestBhyveExit: bhyve's exit statuses as bhyve(8) documents them.
func TestBhyveExit(t *testing.T) {
	for code, want := range map[int]string{0: "down true", 1: "down false", 2: "down false", 3: "triple-faulted", 4: "exit 4"} {
		down, err := BhyveExit(code)
		got := fmt.Sprintf("down %v", down)
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, want) {
			t.Errorf("BhyveExit(%d) = %s, want %s", code, got, want)
		}
	}
}

// TestConsoleWatch: the console goes to the log line by line, the agent's
// markers are seen, a pause freezes the VM, silence past the stall limit
// and no output at all are told apart.
func TestConsoleWatch(t *testing.T) {
	var log bytes.Buffer
	paused := 0
	w := &ConsoleWatch{Log: &log, StallLimit: time.Minute, HardLimit: time.Hour, OnPause: func() error { paused++; return nil }}
	seen, err := w.Watch(context.Background(), strings.NewReader("FreeBSD/amd64 (vmtest) (ttyu0)\n@@vmtest ready\n@@vmtest pause\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !seen.Ready || !seen.Paused || seen.Result || paused != 1 {
		t.Errorf("seen %+v, paused %d", seen, paused)
	}
	if log.String() != "FreeBSD/amd64 (vmtest) (ttyu0)\n@@vmtest ready\n@@vmtest pause\n" {
		t.Errorf("log %q", log.String())
	}
	if _, err := w.Watch(context.Background(), strings.NewReader("@@vmtest error the seed disk does not mount\n")); err == nil || !strings.Contains(err.Error(), "does not mount") {
		t.Errorf("an agent's error: %v", err)
	}
	if _, err := w.Watch(context.Background(), strings.NewReader("")); !errors.Is(err, errNoConsole) {
		t.Errorf("no output at all: %v, want an infrastructure failure", err)
	}
	// A console that printed a line, then nothing: the stall limit.
	r, wr := io.Pipe()
	defer wr.Close()
	go wr.Write([]byte("Loading kernel...\n"))
	w.StallLimit = 50 * time.Millisecond
	if _, err := w.Watch(context.Background(), r); err == nil || !strings.Contains(err.Error(), "silent for 50ms (stall limit)") || !strings.Contains(err.Error(), "Loading kernel") {
		t.Errorf("a stalled console: %v", err)
	}
}

// fakeImageEnv makes the test binary act as the hypervisor of a FreeBSD
// guest (see fakeFreeBSD); fakeStaleEnv makes its upgrade leave the
// mirror disks' boot code as it was.
const (
	fakeImageEnv = "VMTEST_FAKE_FREEBSD"
	fakeStaleEnv = "VMTEST_FAKE_STALE"
)

var (
	oldBoot = BootFiles{PMBR: bytes.Repeat([]byte("pmbr"), 100), GPTZFSBoot: bytes.Repeat([]byte("gptzfsboot-14.3 "), 3000), Loader: bytes.Repeat([]byte("loader-14.3 "), 3000)}
	newBoot = BootFiles{PMBR: oldBoot.PMBR, GPTZFSBoot: bytes.Repeat([]byte("gptzfsboot-15.0 "), 3100), Loader: bytes.Repeat([]byte("loader-15.0 "), 3100)}
)

// TestImageGuestFlow: the image back-end's whole flow with the test binary
// as its hypervisor: a copy of the image and a blank disk for the mirror,
// provisioning at the first boot, the job on a seed disk per launch, the
// agent's report read back from it, the boot code judged from the raw
// disk images, a boot from each disk alone. An upgrade that leaves stale
// boot code on the mirror disk fails, found on the disk image.
func TestImageGuestFlow(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("needs qemu-img (package qemu-utils)")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	image := filepath.Join(dir, "FreeBSD-14.3-RELEASE-amd64-BASIC-CLOUDINIT-zfs.raw")
	memberImage(t, image, oldBoot.PMBR, oldBoot.GPTZFSBoot, map[string][]byte{"/EFI/BOOT/BOOTX64.EFI": oldBoot.Loader, "/EFI/FREEBSD/LOADER.EFI": oldBoot.Loader})
	zup := filepath.Join(dir, "zupgrade")
	os.WriteFile(zup, []byte("zupgrade for FreeBSD"), 0o755)
	vars := filepath.Join(dir, "vars-template.fd")
	os.WriteFile(vars, []byte("EFI variables"), 0o644)
	o := DefaultImageOptions(image, zup)
	o.QEMU, o.OVMFCode, o.OVMFVars = exe, "/ovmf/code.fd", vars
	if err := o.CheckImage(); err != nil {
		t.Fatal(err)
	}
	if o.Release != "14.3-RELEASE" {
		t.Errorf("release %q from the file name", o.Release)
	}
	sc := &Scenario{Name: "major", Description: "d", Machine: simhostSpecBIOS(),
		Runs:   []Run{{Apply: []string{"--to", "15.0-RELEASE"}}},
		Expect: Expect{Kernel: "15.0-RELEASE", World: "15.0-RELEASE", Pool: "ONLINE", Journal: "done", BootCodeEveryMember: true, BootsFromEachDisk: true}}
	sc.Machine.Preset, sc.Machine.Release = "bios+uefi", "14.3-RELEASE"
	if why := o.cannotRun(sc, "uefi"); why != "" {
		t.Fatalf("cannotRun: %s", why)
	}
	for _, tt := range []struct {
		edit func(o *ImageOptions, sc *Scenario)
		fw   string
		want string
	}{
		{func(o *ImageOptions, sc *Scenario) { o.Hypervisor = HypervisorBhyve }, "bios", "bhyve boots the image by UEFI"},
		{func(o *ImageOptions, sc *Scenario) { sc.Machine.Release = "13.4-RELEASE" }, "uefi", "the machine runs 13.4-RELEASE, the image 14.3-RELEASE"},
		{func(o *ImageOptions, sc *Scenario) {
			sc.Faults = []Fault{{Kind: KindPowerCut, Command: "gpart", Args: "bootcode"}}
		}, "uefi", "needs simhost"},
		{func(o *ImageOptions, sc *Scenario) {
			sc.Faults = []Fault{{Kind: KindReplaceDisk, Disk: "ada1", BeforeBoot: 1}}
		}, "uefi", "replacing a disk needs simhost"},
	} {
		o2, sc2 := o, *sc
		tt.edit(&o2, &sc2)
		if why := o2.cannotRun(&sc2, tt.fw); !strings.Contains(why, tt.want) {
			t.Errorf("cannotRun = %q, want %q", why, tt.want)
		}
	}
	t.Setenv(fakeImageEnv, "1")
	for _, stale := range []bool{false, true} {
		t.Run(map[bool]string{false: "current", true: "stale"}[stale], func(t *testing.T) {
			if stale {
				t.Setenv(fakeStaleEnv, "1")
			}
			gdir := t.TempDir()
			g, err := NewImageGuest(o, gdir, sc, "uefi")
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			if data, err := os.ReadFile(filepath.Join(gdir, "vars.fd")); err != nil || string(data) != "EFI variables" {
				t.Errorf("the guest's own copy of the UEFI variables: %q, %v", data, err)
			}
			res, err := Execute(context.Background(), sc, g)
			if err != nil {
				t.Fatal(err)
			}
			if g.n != 6 {
				t.Errorf("%d launches, want 6 (provision, apply, observe, one per disk alone, observe)", g.n)
			}
			argv, _ := os.ReadFile(filepath.Join(gdir, "argv-5.txt"))
			if !strings.Contains(string(argv), "file="+filepath.Join(gdir, "ada1.raw")) || strings.Contains(string(argv), "ada0.raw") {
				t.Errorf("launch 5 boots ada1 alone:\n%s", argv)
			}
			if !strings.Contains(string(argv), "unit=1,file="+filepath.Join(gdir, "vars.fd")) {
				t.Errorf("launch 5 does not use the guest's variables:\n%s", argv)
			}
			fails := strings.Join(res.Failures, "\n")
			if !stale {
				if !res.Passed() {
					t.Fatalf("failures:\n%s\nlog:\n%s", fails, res.Log)
				}
				wantCode := []string{"ada0 pmbr current", "ada0p1:efi/boot/bootx64.efi current", "ada0p1:efi/freebsd/loader.efi current", "ada0p2 current",
					"ada1 pmbr current", "ada1p1:efi/boot/bootx64.efi current", "ada1p1:efi/freebsd/loader.efi current", "ada1p2 current"}
				if !reflect.DeepEqual(res.Outcome.BootCode, wantCode) {
					t.Errorf("boot code %q", res.Outcome.BootCode)
				}
				if !reflect.DeepEqual(res.Outcome.DiskBoots, []string{"ada0: 15.0-RELEASE via ada0", "ada1: 15.0-RELEASE via ada1"}) {
					t.Errorf("disk boots %q", res.Outcome.DiskBoots)
				}
				return
			}
			for _, w := range []string{"boot code: ada1p2 stale", "boot code: ada1p1:efi/boot/bootx64.efi stale"} {
				if !strings.Contains(fails, w) {
					t.Errorf("stale boot code on ada1 not found on its image: %q missing from\n%s", w, fails)
				}
			}
		})
	}
}

// fakeFreeBSD plays a FreeBSD guest under QEMU for TestImageGuestFlow: it
// reads QEMU's argv for the disks (the seed last), does the seed's job to
// the disk images as the agent and zupgrade would, and reports into the
// seed's out/ and on the console.
func fakeFreeBSD(args []string) int {
	var disks []string
	for i, a := range args {
		if a == "-drive" && i+1 < len(args) && strings.Contains(args[i+1], "if=none") {
			file, _, _ := strings.Cut(strings.TrimPrefix(args[i+1], "file="), ",")
			disks = append(disks, file)
		}
	}
	if len(disks) < 2 {
		fmt.Fprintln(os.Stderr, "fake: no disks in", args)
		return 4
	}
	seed, members := disks[len(disks)-1], disks[:len(disks)-1]
	if err := fakeJob(seed, members); err != nil {
		fmt.Println("@@vmtest error", err)
		return 0
	}
	return 0
}

func fakeJob(seed string, members []string) error {
	d, err := diskfs.Open(seed)
	if err != nil {
		return err
	}
	defer d.Close()
	fsys, err := d.GetFilesystem(0)
	if err != nil {
		return err
	}
	kind, _ := fsys.ReadFile("kind")
	state := filepath.Join(filepath.Dir(members[0]), "fake-release")
	switch strings.TrimSpace(string(kind)) {
	case "provision":
		// The mirror: the image's disk copied onto each blank one (gpart
		// restore, zpool attach, gpart bootcode, the ESP's loader).
		data, err := os.ReadFile(members[0])
		if err != nil {
			return err
		}
		for _, m := range members[1:] {
			if err := os.WriteFile(m, data, 0o644); err != nil {
				return err
			}
		}
		os.WriteFile(state, []byte("14.3-RELEASE"), 0o644)
		fmt.Println("vmtest provisioning: done")
		return nil
	case "apply":
		fmt.Println("@@vmtest ready")
		for i, m := range members {
			if i > 0 && os.Getenv(fakeStaleEnv) != "" {
				continue
			}
			if err := fakeBootcode(m, newBoot); err != nil {
				return err
			}
		}
		os.WriteFile(state, []byte("15.0-RELEASE"), 0o644)
	case "observe":
		fmt.Println("@@vmtest ready")
	default:
		return fmt.Errorf("job %q", kind)
	}
	if err := fsys.Mkdir("/out/boot"); err != nil {
		return err
	}
	rel, _ := os.ReadFile(state)
	ref := oldBoot
	if string(rel) == "15.0-RELEASE" {
		ref = newBoot
	}
	for name, data := range map[string][]byte{"kernel": rel, "world": rel, "pool": []byte("ONLINE\n"), "exit": []byte("0\n"),
		"journal.json": []byte(`{"status": "done"}`), "boot/pmbr": ref.PMBR, "boot/gptzfsboot": ref.GPTZFSBoot, "boot/loader.efi": ref.Loader} {
		f, err := fsys.OpenFile("/out/"+name, os.O_CREATE|os.O_RDWR|os.O_TRUNC)
		if err != nil {
			return err
		}
		f.Write(data)
		f.Close()
	}
	fmt.Println("@@vmtest result", strings.TrimSpace(string(kind)))
	return nil
}

// fakeBootcode writes gptzfsboot into p2 and the loader onto p1's ESP.
func fakeBootcode(path string, ref BootFiles) error {
	d, err := diskfs.Open(path)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.WritePartitionContents(2, bytes.NewReader(append(append([]byte(nil), ref.GPTZFSBoot...), make([]byte, 512*1024-len(ref.GPTZFSBoot))...))); err != nil {
		return err
	}
	fsys, err := d.GetFilesystem(1)
	if err != nil {
		return err
	}
	for _, p := range []string{"/EFI/BOOT/BOOTX64.EFI", "/EFI/FREEBSD/LOADER.EFI"} {
		f, err := fsys.OpenFile(p, os.O_RDWR|os.O_TRUNC)
		if err != nil {
			return err
		}
		if _, err := f.Write(ref.Loader); err != nil {
			return err
		}
		f.Close()
	}
	return nil
}

// TestImageArgv: the image's disks and then the seed disk, on AHCI under
// QEMU (ada0, ada1, then the seed) with SeaBIOS or OVMF and the guest's
// own variables; under bhyve the UEFI bootrom with the guest's variables,
// a VM name per scenario directory.
func TestImageArgv(t *testing.T) {
	o := DefaultImageOptions("/i/FreeBSD-15.0-RELEASE-amd64-BASIC-CLOUDINIT-zfs.qcow2", "/b/zupgrade")
	g := &ImageGuest{o: o, dir: "/w/major-uefi-123", sc: &Scenario{Name: "major"}, firmware: "uefi", vars: "/w/major-uefi-123/vars.fd"}
	argv, err := g.Argv([]string{"/w/ada0.raw", "/w/ada1.raw"}, "/w/seed-1.img", "/s/qmp")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Join(argv, " ")
	for _, w := range []string{"qemu-system-x86_64 -accel tcg -m 2048 -smp 1", "-no-reboot", "-nic none", "-serial stdio",
		"-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd -drive if=pflash,format=raw,unit=1,file=/w/major-uefi-123/vars.fd",
		"-drive file=/w/ada0.raw,format=raw,if=none,id=disk0 -device ide-hd,drive=disk0,bus=ahci.0",
		"-drive file=/w/ada1.raw,format=raw,if=none,id=disk1 -device ide-hd,drive=disk1,bus=ahci.1",
		"-drive file=/w/seed-1.img,format=raw,if=none,id=disk2 -device ide-hd,drive=disk2,bus=ahci.2"} {
		if !strings.Contains(s, w) {
			t.Errorf("QEMU argv lacks %q:\n%s", w, s)
		}
	}
	g.firmware = "bios"
	argv, _ = g.Argv([]string{"/w/ada0.raw"}, "/w/seed-1.img", "/s/qmp")
	if s := strings.Join(argv, " "); strings.Contains(s, "pflash") {
		t.Errorf("SeaBIOS argv names OVMF:\n%s", s)
	}
	g.o.Hypervisor, g.firmware = HypervisorBhyve, "uefi"
	argv, err = g.Argv([]string{"/w/ada0.raw", "/w/ada1.raw"}, "/w/seed-1.img", "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"bhyve", "-A", "-H", "-u", "-c", "1", "-m", "2048M", "-s", "0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio",
		"-l", "bootrom,/usr/local/share/uefi-firmware/BHYVE_UEFI.fd,/w/major-uefi-123/vars.fd", "-s", "1,virtio-rnd",
		"-s", "2,ahci-hd,/w/ada0.raw", "-s", "3,ahci-hd,/w/ada1.raw", "-s", "4,ahci-hd,/w/seed-1.img", "vmtest-major-uefi-123"}
	if !reflect.DeepEqual(argv, want) {
		t.Errorf("bhyve argv:\n got %q\nwant %q", argv, want)
	}
}

// TestImageCells: the image back-end runs each scenario once per firmware
// asked for, skipping what its machine or the image cannot do.
func TestImageCells(t *testing.T) {
	o := SuiteOptions{Backend: BackendImage, Firmware: "both", Image: &ImageOptions{Release: "14.3-RELEASE", Hypervisor: HypervisorQEMU}}
	scs := []*Scenario{
		{Name: "hybrid", Machine: simhostSpecBIOS()},
		{Name: "bios-only", Machine: simhostSpecBIOS()},
		{Name: "old", Machine: simhostSpecBIOS()},
	}
	scs[0].Machine.Preset, scs[0].Machine.Release = "bios+uefi", "14.3-RELEASE-p3"
	scs[1].Machine.Release = "14.3-RELEASE"
	var got []string
	for _, c := range o.cells(scs) {
		got = append(got, fmt.Sprintf("%s@%s skip=%q", c.sc.Name, c.firmware, c.skip))
	}
	want := []string{`hybrid@bios skip=""`, `hybrid@uefi skip=""`,
		`bios-only@bios skip=""`, `bios-only@uefi skip="the machine (preset bios) does not boot with uefi"`,
		`old@bios skip="the machine runs 13.4-RELEASE, the image 14.3-RELEASE"`, `old@uefi skip="the machine (preset bios) does not boot with uefi"`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cells:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	o.Firmware = "uefi"
	if cells := o.cells(scs[:1]); len(cells) != 1 || cells[0].firmware != "uefi" {
		t.Errorf("--firmware uefi: %+v", cells)
	}
}
