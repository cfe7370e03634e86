// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// cpioEntry is one file of a newc cpio archive.
type cpioEntry struct {
	Name string
	Mode uint32 // with the type bits: 0o100000 file, 0o040000 dir, 0o120000 symlink
	Data []byte // the link target for a symlink
}

const (
	modeFile    = 0o100000
	modeDir     = 0o040000
	modeSymlink = 0o120000
)

// writeCPIO writes entries as a newc ("070701") archive, the format the
// Linux kernel unpacks as its initramfs. Appended archives add or replace
// files, so each launch appends its job to the same base archive.
func writeCPIO(w io.Writer, entries []cpioEntry) error {
	var b bytes.Buffer
	pad := func() {
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	put := func(ino int, e cpioEntry) {
		nlink := 1
		if e.Mode&0o170000 == modeDir {
			nlink = 2
		}
		fmt.Fprintf(&b, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, e.Mode, 0, 0, nlink, 0, len(e.Data), 0, 0, 0, 0, len(e.Name)+1, 0)
		b.WriteString(e.Name)
		b.WriteByte(0)
		pad()
		b.Write(e.Data)
		pad()
	}
	for i, e := range entries {
		if e.Name == "" || strings.HasPrefix(e.Name, "/") {
			return fmt.Errorf("cpio: entry name %q must be relative", e.Name)
		}
		put(i+1, e)
	}
	put(0, cpioEntry{Name: "TRAILER!!!"})
	_, err := w.Write(b.Bytes())
	return err
}

// fileEntry reads a host file into an entry named name.
func fileEntry(name, path string, mode uint32) (cpioEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return cpioEntry{}, err
	}
	return cpioEntry{Name: name, Mode: modeFile | mode, Data: data}, nil
}

// dirEntries are the directories that hold the entries' files, parents
// first, so that the kernel can make every file.
func dirEntries(entries []cpioEntry) []cpioEntry {
	seen := map[string]bool{}
	var dirs []string
	for _, e := range entries {
		for d := filepath.Dir(e.Name); d != "." && !seen[d]; d = filepath.Dir(d) {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	sort.Strings(dirs)
	var out []cpioEntry
	for _, d := range dirs {
		out = append(out, cpioEntry{Name: d, Mode: modeDir | 0o755})
	}
	return out
}

// guestInit is the initramfs's /init: busybox's applets, the kernel
// modules, and the disk mounted so that only what is synced survives a
// cut (no periodic writeback, a long ext4 commit interval: the guest
// sees the same durability on every run, however slow TCG is). Then the
// guest agent runs the launch's job; a kit with real OpenZFS first loads
// ZFS and imports the pool (realZFSInit).
const guestInit = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /disk
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/bin
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts
mount -t devpts -o ptmxmode=0666 devpts /dev/pts
[ -c /dev/ptmx ] || ln -sf pts/ptmx /dev/ptmx
mount -t tmpfs tmp /tmp
while read -r m; do insmod "/$m" 2>/dev/null; done < /vmtest/modules
echo 0 > /proc/sys/vm/dirty_writeback_centisecs
echo 8640000 > /proc/sys/vm/dirty_expire_centisecs
n=0
while [ ! -b /dev/vda ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done
mount -t ext4 -o commit=86400 /dev/vda /disk || { echo "@@vmtest error: cannot mount /dev/vda"; poweroff -f; }
# A guest with real OpenZFS (GuestKit.WithZFS) imports the machine's pool.
[ -f /vmtest/zfs.sh ] && . /vmtest/zfs.sh
exec /vmtest/vmguest
`

// guestModules are the kernel modules the guest needs: virtio PCI and
// block devices, the virtio RNG, ext4, and vfat with the character sets
// its mount uses by default (codepage 437, iocharset ascii, utf8 names),
// for the ESPs of the real disks.
var guestModules = []string{"virtio_pci", "virtio_blk", "virtio-rng", "ext4", "vfat", "nls_cp437", "nls_ascii", "nls_utf8"}

// baseInitramfs starts the base initramfs every guest kit builds: it
// extracts the newest kernel to kernel (extractVmlinux) and returns its
// version, busybox with the kernel's modules (guestModules and their
// dependencies) as entries, and the modules' names inside the initramfs
// in load order, as /vmtest/modules lists them.
func baseInitramfs(kernel string) (kver string, files []cpioEntry, modules []string, err error) {
	if missing := MissingGuestTools(); len(missing) > 0 {
		return "", nil, nil, fmt.Errorf("the Linux guest needs: %s", strings.Join(missing, ", "))
	}
	vmlinuz, kver, _ := findKernel()
	if err := extractVmlinux(vmlinuz, kernel); err != nil {
		return "", nil, nil, err
	}
	mods, err := moduleFiles("/", kver)
	if err != nil {
		return "", nil, nil, err
	}
	e, err := fileEntry("bin/busybox", "/bin/busybox", 0o755)
	if err != nil {
		return "", nil, nil, err
	}
	files = append(files, e)
	for _, m := range mods {
		name := strings.TrimPrefix(m, "/")
		e, err := fileEntry(name, m, 0o644)
		if err != nil {
			return "", nil, nil, err
		}
		files = append(files, e)
		modules = append(modules, name)
	}
	return kver, files, modules, nil
}

// moduleFiles resolves the modules and their dependencies, in load order,
// with modprobe --show-depends against the host's module tree for kver.
func moduleFiles(modRoot, kver string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, m := range guestModules {
		args := []string{"-S", kver, "--show-depends", m}
		if modRoot != "/" {
			args = append([]string{"-d", modRoot}, args...)
		}
		cmd := exec.Command("modprobe", args...)
		data, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("modprobe --show-depends %s for %s: %v (install the kernel's package, linux-image-amd64)", m, kver, err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 || f[0] != "insmod" || seen[f[1]] {
				continue
			}
			seen[f[1]] = true
			out = append(out, f[1])
		}
	}
	return out, nil
}

// extractVmlinux returns the uncompressed ELF kernel inside a bzImage
// (its xz payload, decompressed with xz(1)): QEMU boots it through its
// PVH entry point in about half the time of the bzImage under TCG.
func extractVmlinux(vmlinuz, out string) error {
	data, err := os.ReadFile(vmlinuz)
	if err != nil {
		return err
	}
	magic := []byte("\xfd7zXZ\x00")
	for off := 0; ; {
		i := bytes.Index(data[off:], magic)
		if i < 0 {
			return fmt.Errorf("%s: no xz-compressed kernel inside", vmlinuz)
		}
		off += i
		cmd := exec.Command("xz", "-dc", "--single-stream")
		cmd.Stdin = bytes.NewReader(data[off:])
		elf, _ := cmd.Output() // trailing data after the stream makes xz complain
		if bytes.HasPrefix(elf, []byte("\x7fELF")) {
			return os.WriteFile(out, elf, 0o644)
		}
		off++
	}
}
