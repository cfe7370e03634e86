// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestQEMUArgsLinuxGuest: the Linux guest's command line, exactly.
func TestQEMUArgsLinuxGuest(t *testing.T) {
	got, err := QEMUArgs(QEMUOptions{
		Binary: "qemu-system-x86_64", Accel: "tcg", MemoryMB: 1024,
		Kernel: "/k/vmlinux", Initrd: "/k/initrd", Append: "console=ttyS0 panic=-1",
		Disks: []QEMUDisk{{Path: "/d/disk.img", Format: "raw", Interface: "virtio"}},
		QMP:   "/s/qmp", Serial: "stdio",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"qemu-system-x86_64", "-accel", "tcg", "-m", "1024", "-smp", "1",
		"-display", "none", "-monitor", "none", "-nic", "none", "-no-reboot",
		"-device", "virtio-rng-pci", "-serial", "stdio", "-qmp", "unix:/s/qmp,server=on,wait=off",
		"-kernel", "/k/vmlinux", "-initrd", "/k/initrd", "-append", "console=ttyS0 panic=-1",
		"-drive", "file=/d/disk.img,format=raw,if=virtio,cache=writeback"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("argv:\n got %q\nwant %q", got, want)
	}
}

// TestQEMUArgsFreeBSDImage: a real FreeBSD image booted by SeaBIOS or by
// OVMF, its disks on AHCI (ada0, ada1 as on the installed system).
func TestQEMUArgsFreeBSDImage(t *testing.T) {
	disks := []QEMUDisk{{Path: "/i/root.qcow2", Format: "qcow2", Interface: "ahci"}, {Path: "/i/mirror.qcow2", Format: "qcow2", Interface: "ahci"}}
	bios, err := QEMUArgs(QEMUOptions{Binary: "qemu-system-x86_64", Accel: "kvm", MemoryMB: 2048, Disks: disks, QMP: "/s/q", Serial: "/a/console.log"})
	if err != nil {
		t.Fatal(err)
	}
	tail := []string{"-device", "ahci,id=ahci",
		"-drive", "file=/i/root.qcow2,format=qcow2,if=none,id=disk0", "-device", "ide-hd,drive=disk0,bus=ahci.0",
		"-drive", "file=/i/mirror.qcow2,format=qcow2,if=none,id=disk1", "-device", "ide-hd,drive=disk1,bus=ahci.1"}
	want := append([]string{"qemu-system-x86_64", "-accel", "kvm", "-m", "2048", "-smp", "1",
		"-display", "none", "-monitor", "none", "-nic", "none", "-no-reboot",
		"-device", "virtio-rng-pci", "-serial", "file:/a/console.log", "-qmp", "unix:/s/q,server=on,wait=off"}, tail...)
	if !reflect.DeepEqual(bios, want) {
		t.Errorf("BIOS argv:\n got %q\nwant %q", bios, want)
	}
	uefi, err := QEMUArgs(QEMUOptions{Binary: "qemu-system-x86_64", Accel: "tcg", MemoryMB: 2048, Firmware: "uefi",
		OVMFCode: "/usr/share/OVMF/OVMF_CODE_4M.fd", OVMFVars: "/a/vars.fd", Disks: disks, QMP: "/s/q", Serial: "stdio"})
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Join(uefi, " ")
	for _, w := range []string{"-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd", "-drive if=pflash,format=raw,unit=1,file=/a/vars.fd", strings.Join(tail, " ")} {
		if !strings.Contains(s, w) {
			t.Errorf("UEFI argv lacks %q:\n%s", w, s)
		}
	}
}

// TestQEMUArgsRefused: options that cannot work are refused, saying why.
func TestQEMUArgsRefused(t *testing.T) {
	ok := QEMUOptions{Binary: "q", Accel: "tcg", MemoryMB: 512, Kernel: "k", QMP: "s", Serial: "stdio"}
	tests := []struct {
		name string
		edit func(o *QEMUOptions)
		want string
	}{
		{"accel", func(o *QEMUOptions) { o.Accel = "hvf" }, `accel "hvf"`},
		{"memory", func(o *QEMUOptions) { o.MemoryMB = 64 }, "too little"},
		{"qmp", func(o *QEMUOptions) { o.QMP = "" }, "QMP socket"},
		{"nothing", func(o *QEMUOptions) { o.Kernel = "" }, "neither a kernel nor a disk"},
		{"uefi-vars", func(o *QEMUOptions) { o.Kernel = ""; o.Firmware = "uefi"; o.OVMFCode = "c" }, "OVMF_VARS"},
		{"uefi-kernel", func(o *QEMUOptions) { o.Firmware = "uefi"; o.OVMFCode, o.OVMFVars = "c", "v" }, "direct kernel boot"},
		{"firmware", func(o *QEMUOptions) { o.Firmware = "coreboot" }, `firmware "coreboot"`},
		{"comma", func(o *QEMUOptions) { o.Disks = []QEMUDisk{{Path: "a,b", Format: "raw", Interface: "virtio"}} }, "comma"},
		{"format", func(o *QEMUOptions) { o.Disks = []QEMUDisk{{Path: "a", Format: "vmdk", Interface: "virtio"}} }, `format "vmdk"`},
		{"iface", func(o *QEMUOptions) { o.Disks = []QEMUDisk{{Path: "a", Format: "raw", Interface: "scsi"}} }, `interface "scsi"`},
	}
	if _, err := QEMUArgs(ok); err != nil {
		t.Fatalf("the base options: %v", err)
	}
	for _, tt := range tests {
		o := ok
		tt.edit(&o)
		if _, err := QEMUArgs(o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

// TestBhyveArgs: bhyve's command line for a UEFI guest with two AHCI disks.
func TestBhyveArgs(t *testing.T) {
	got, err := BhyveArgs(BhyveOptions{Name: "vmtest-1", MemoryMB: 2048, BootROM: "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd",
		Vars: "/a/vars.fd", Disks: []string{"/i/root.img", "/i/mirror.img"}, Console: "/dev/nmdm-vmtest-1A"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"bhyve", "-A", "-H", "-u", "-c", "1", "-m", "2048M", "-s", "0,hostbridge", "-s", "31,lpc",
		"-l", "com1,/dev/nmdm-vmtest-1A", "-l", "bootrom,/usr/local/share/uefi-firmware/BHYVE_UEFI.fd,/a/vars.fd",
		"-s", "1,virtio-rnd", "-s", "2,ahci-hd,/i/root.img", "-s", "3,ahci-hd,/i/mirror.img", "vmtest-1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("argv:\n got %q\nwant %q", got, want)
	}
	for _, bad := range []BhyveOptions{
		{Name: "a b", MemoryMB: 512, BootROM: "r", Vars: "v", Disks: []string{"d"}},
		{Name: "x", MemoryMB: 512, BootROM: "r", Disks: []string{"d"}},
		{Name: "x", MemoryMB: 512, BootROM: "r", Vars: "v"},
		{Name: "x", MemoryMB: 512, BootROM: "r", Vars: "v", Disks: []string{"a,b"}},
	} {
		if _, err := BhyveArgs(bad); err == nil {
			t.Errorf("BhyveArgs(%+v) accepted", bad)
		}
	}
}

// TestCPIO: the archive is what cpio(1) reads, files, directories and
// links with their contents.
func TestCPIO(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("cpio(1) is not installed to read the archive back")
	}
	files := []cpioEntry{
		{Name: "vmtest/job.json", Mode: modeFile | 0o644, Data: []byte(`{"kind":"boot"}`)},
		{Name: "bin/sh", Mode: modeSymlink | 0o777, Data: []byte("busybox")},
		{Name: "init", Mode: modeFile | 0o755, Data: []byte("#!/bin/sh\n")},
	}
	var b bytes.Buffer
	if err := writeCPIO(&b, append(dirEntries(files), files...)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command("cpio", "-i", "-d", "--quiet")
	cmd.Dir = dir
	cmd.Stdin = &b
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cpio -i: %v\n%s", err, out)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "vmtest/job.json")); string(data) != `{"kind":"boot"}` {
		t.Errorf("job.json = %q", data)
	}
	if l, _ := os.Readlink(filepath.Join(dir, "bin/sh")); l != "busybox" {
		t.Errorf("bin/sh -> %q", l)
	}
	if fi, err := os.Stat(filepath.Join(dir, "init")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("init: %v %v", fi, err)
	}
	if err := writeCPIO(&b, []cpioEntry{{Name: "/abs", Mode: modeFile}}); err == nil {
		t.Error("an absolute name was accepted")
	}
}

// TestRerunScript: the rerun script rebuilds the launch's initramfs and
// runs the same argv, quoted for sh.
func TestRerunScript(t *testing.T) {
	s := rerunScript([]string{"qemu", "-append", "console=ttyS0 quiet", "-x", "it's"}, "/a/initrd-2.cpio", "/k/base.cpio", "/a/job-2.cpio")
	for _, w := range []string{"cat /k/base.cpio /a/job-2.cpio > /a/initrd-2.cpio\n", "exec qemu -append 'console=ttyS0 quiet' -x 'it'\\''s'\n"} {
		if !strings.Contains(s, w) {
			t.Errorf("rerun script lacks %q:\n%s", w, s)
		}
	}
	if _, err := exec.LookPath("sh"); err == nil {
		if out, err := exec.Command("sh", "-n", "-c", s).CombinedOutput(); err != nil {
			t.Errorf("sh -n: %v\n%s", err, out)
		}
	}
}

// TestQMPStopQuit: the client negotiates, then stop and quit get their
// replies; an error reply is an error; events are skipped.
func TestQMPStopQuit(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "q")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan []string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		c.Write([]byte(`{"QMP": {"version": {}, "capabilities": []}}` + "\n"))
		var cmds []string
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				break
			}
			var m map[string]string
			json.Unmarshal(line, &m)
			cmds = append(cmds, m["execute"])
			switch m["execute"] {
			case "stop":
				c.Write([]byte(`{"event": "STOP", "timestamp": {}}` + "\n" + `{"return": {}}` + "\n"))
			case "cont":
				c.Write([]byte(`{"error": {"class": "GenericError", "desc": "no"}}` + "\n"))
			case "quit":
				c.Write([]byte(`{"return": {}}` + "\n"))
				got <- cmds
				return
			default:
				c.Write([]byte(`{"return": {}}` + "\n"))
			}
		}
		got <- cmds
	}()
	q, err := dialQMP(sock)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.execute("stop"); err != nil {
		t.Errorf("stop: %v", err)
	}
	if err := q.execute("cont"); err == nil || !strings.Contains(err.Error(), "no") {
		t.Errorf("an error reply: %v", err)
	}
	if err := q.execute("quit"); err != nil {
		t.Errorf("quit: %v", err)
	}
	q.close()
	if cmds := <-got; !reflect.DeepEqual(cmds, []string{"qmp_capabilities", "stop", "cont", "quit"}) {
		t.Errorf("the server saw %q", cmds)
	}
}
