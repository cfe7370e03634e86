// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/zupgrade/zupgrade/vmtest/guestzfs"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// ZFSKit is the Linux guest with real OpenZFS: Debian's kernel, and a
// base initramfs with busybox, the virtio modules, the ZFS modules built
// for that kernel, zpool and zfs with their libraries and compatibility
// profiles (vmtest/guestzfs), and go-zfs's report program. Its disks are
// real GPT disks with FreeBSD partition types, seen in the guest under
// their FreeBSD names (ada0, ada0p4 ...).
type ZFSKit struct {
	QEMU, Accel, Kernel string
	Base                []byte
	BasePath            string
	// StallLimit ends a launch whose console stays silent that long;
	// HardLimit bounds one launch.
	StallLimit, HardLimit time.Duration
}

// zfsInit is the initramfs's /init for the ZFS guest: busybox's applets,
// the kernel modules (virtio, then spl and zfs), each disk of the launch
// linked under its FreeBSD names (linkDisks), so that zpool status prints
// the names a FreeBSD host prints. Then the launch's job runs; its sections are printed with markers.
const zfsInit = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /mnt /etc/zfs
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/sbin:/bin
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
echo "@@vmtest ready"
# Some modules refuse the emulated CPU (crc32c-intel under TCG): only
# the ZFS device at the end counts.
while read -r m; do insmod "/$m" 2>/dev/null; done < /vmtest/modules
[ -c /dev/zfs ] || echo "@@vmtest error no /dev/zfs after loading the modules"
` + linkDisks + `# sec NAME CMD...: CMD's output and exit status, as one section.
sec() {
	name=$1
	shift
	echo "@@vmtest section $name"
	"$@" > /tmp/sec.out 2>&1
	rc=$?
	sed 's/^/@@| /' /tmp/sec.out
	echo "@@vmtest end $name $rc"
}
# cut: the power fails here (the host stops the VM at this line).
cut() {
	echo "@@vmtest pause"
	while :; do sleep 3600; done
}
. /vmtest/job.sh
sync
echo "@@vmtest done"
poweroff -f
`

// NewZFSKit extracts the kernel into dir and builds the base initramfs
// from the assets and the go-zfs report program (a Linux binary).
func NewZFSKit(dir string, a *guestzfs.Assets, report string) (*ZFSKit, error) {
	if err := assetsMatchKernel(a); err != nil {
		return nil, err
	}
	kit := &ZFSKit{QEMU: "qemu-system-x86_64", Accel: "tcg", Kernel: filepath.Join(dir, "vmlinux"),
		StallLimit: 4 * time.Minute, HardLimit: 8 * time.Minute}
	_, files, mods, err := baseInitramfs(kit.Kernel)
	if err != nil {
		return nil, err
	}
	e, err := fileEntry("vmtest/gozfsreport", report, 0o755)
	if err != nil {
		return nil, err
	}
	files = append(files, e)
	assets, err := assetEntries(a)
	if err != nil {
		return nil, err
	}
	files = append(append(files, assets...),
		cpioEntry{Name: "init", Mode: modeFile | 0o755, Data: []byte(zfsInit)},
		cpioEntry{Name: "vmtest/modules", Mode: modeFile | 0o644, Data: []byte(strings.Join(append(mods, a.Modules...), "\n") + "\n")})
	var b bytes.Buffer
	if err := writeCPIO(&b, append(dirEntries(files), files...)); err != nil {
		return nil, err
	}
	kit.Base = b.Bytes()
	kit.BasePath = filepath.Join(dir, "zfs-base.cpio")
	return kit, os.WriteFile(kit.BasePath, kit.Base, 0o644)
}

// assetsMatchKernel fails unless the OpenZFS assets are built for the
// kernel the guest boots.
func assetsMatchKernel(a *guestzfs.Assets) error {
	_, kver, err := findKernel()
	if err != nil {
		return err
	}
	if a.Kernel != kver {
		return fmt.Errorf("the OpenZFS assets are built for kernel %s, the guest boots %s (build them again: go run ./vmtest/guestzfs/cmd/guestzfs)", a.Kernel, kver)
	}
	return nil
}

// assetEntries are the OpenZFS assets' files (zpool, zfs, their
// libraries and compatibility profiles, the modules) as entries.
func assetEntries(a *guestzfs.Assets) ([]cpioEntry, error) {
	var files []cpioEntry
	for _, f := range a.Files {
		st, err := os.Stat(filepath.Join(a.Root, f))
		if err != nil {
			return nil, fmt.Errorf("the OpenZFS assets: %w", err)
		}
		e, err := fileEntry(f, filepath.Join(a.Root, f), uint32(st.Mode().Perm()))
		if err != nil {
			return nil, err
		}
		files = append(files, e)
	}
	return files, nil
}

// ZFSDisk is a disk of a ZFS guest launch: its image, the FreeBSD name
// it has in the guest (ada0, ada1 ...), its partitions as its real GPT
// holds them (simhost.ReadGPT) and the layout it was made with.
type ZFSDisk struct {
	Name, Path string
	Parts      []*simhost.Partition
	Layout     *DiskLayout
}

// readZFSDisk is the disk of the raw image at path, its partitions read
// from the image's real GPT.
func readZFSDisk(name, path string, layout *DiskLayout) (ZFSDisk, error) {
	parts, err := simhost.ReadGPT(path)
	if err != nil {
		return ZFSDisk{}, err
	}
	return ZFSDisk{Name: name, Path: path, Parts: parts, Layout: layout}, nil
}

// at is the same disk in another image (a copy or an overlay of it).
func (d ZFSDisk) at(path string) ZFSDisk {
	d.Path = path
	return d
}

// part is the disk's first partition of a type, nil when it has none.
func (d ZFSDisk) part(typ string) *simhost.Partition { return findPart(d.Parts, typ) }

// poolDev is the device, under /dev, the pool's member on the disk was
// created on: the pool partition's GPT label (gpt/zfs0) or its device
// name (ada0p4), as the layout says; the device name on a disk put in
// place with no labels (replaceRealDisks).
func (d ZFSDisk) poolDev() string {
	p := d.part("freebsd-zfs")
	if p == nil {
		return ""
	}
	if d.Layout.PoolOnLabels && p.Label != "" {
		return "gpt/" + p.Label
	}
	return fmt.Sprintf("%sp%d", d.Name, p.Index)
}

// gptLabel matches the GPT labels the guest links under /dev/gpt.
var gptLabel = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// tableLine is the disk's line in the guest's /vmtest/disks, read by
// linkDisks: the virtio device, the FreeBSD name, the highest partition
// index, the pool partition's index and each labelled partition as
// INDEX:LABEL.
func (d ZFSDisk) tableLine(dev string) (string, error) {
	last := 0
	var labels []string
	for _, p := range d.Parts {
		last = max(last, p.Index)
		if p.Label == "" {
			continue
		}
		if !gptLabel.MatchString(p.Label) {
			return "", fmt.Errorf("%s: GPT label %q: the guest links only labels of letters, digits, dots, dashes and underscores", d.Name, p.Label)
		}
		labels = append(labels, fmt.Sprintf("%d:%s", p.Index, p.Label))
	}
	pool := d.part("freebsd-zfs")
	if !validDiskName(d.Name) || last < 1 || last > 9 || pool == nil {
		return "", fmt.Errorf("disk %q with partitions up to %d: want adaN with 1 to 9 and a freebsd-zfs partition", d.Name, last)
	}
	return strings.Join(append([]string{dev, d.Name, strconv.Itoa(last), strconv.Itoa(pool.Index)}, labels...), " ") + "\n", nil
}

// poolNames are every name the guest gives the disk's pool partition,
// under /dev: its device name, then its GPT label when it has one.
func (d ZFSDisk) poolNames() []string {
	p := d.part("freebsd-zfs")
	if p == nil {
		return nil
	}
	out := []string{fmt.Sprintf("%sp%d", d.Name, p.Index)}
	if p.Label != "" {
		out = append(out, "gpt/"+p.Label)
	}
	return out
}

// linkDisks is the guests' init step that links each disk of the launch
// (/vmtest/disks, tableLine) under its FreeBSD name with its partitions
// (ada0 -> vda, ada0p4 -> vda4) and each GPT label under /dev/gpt, as
// FreeBSD's GEOM label class names labelled partitions (gpt/zfs0), so
// that zpool status prints the names a FreeBSD host prints. pooldevs
// gets an import's -d option for each name of each pool partition
// (poolNames): zpool import keeps the name a member's label records when
// it is among those found (lib/libzutil/zutil_import.c fix_paths), as
// FreeBSD's vdev_geom opens a member by its recorded path first, so the
// pool keeps the names it was created on.
const linkDisks = `mkdir -p /dev/gpt
pooldevs=
while read -r dev name parts pool labels; do
	n=0
	while [ ! -b "/dev/$dev$parts" ] && [ $n -lt 400 ]; do sleep 0.05; n=$((n+1)); done
	[ -b "/dev/$dev$parts" ] || echo "@@vmtest error no /dev/$dev$parts"
	ln -s "$dev" "/dev/$name"
	i=1
	while [ $i -le "$parts" ]; do ln -s "$dev$i" "/dev/${name}p$i"; i=$((i+1)); done
	pooldevs="$pooldevs -d /dev/${name}p$pool"
	for l in $labels; do
		ln -s "../$dev${l%%:*}" "/dev/gpt/${l#*:}"
		[ "${l%%:*}" = "$pool" ] && pooldevs="$pooldevs -d /dev/gpt/${l#*:}"
	done
done < /vmtest/disks
`

// Section is the output and exit status of one command of a job.
type Section struct {
	Out string
	RC  int
}

// ZFSRun is what one launch printed: its sections by name, and whether
// the power was cut (the job called cut).
type ZFSRun struct {
	Sections map[string]Section
	Cut      bool
	// BootToReady is the time from QEMU's start to init's first line,
	// Wall the whole launch.
	BootToReady, Wall time.Duration
}

// Get returns a section, failing when the job did not print it.
func (r *ZFSRun) Get(name string) (Section, error) {
	s, ok := r.Sections[name]
	if !ok {
		return Section{}, fmt.Errorf("the job printed no section %q", name)
	}
	return s, nil
}

// validDiskName says whether s is a FreeBSD disk name the guest gives:
// ada and a unit number.
func validDiskName(s string) bool {
	n, ok := strings.CutPrefix(s, "ada")
	_, err := strconv.Atoi(n)
	return ok && err == nil && n != ""
}

// Launch boots the ZFS guest on disks (virtio disks in this order, named
// as given) with a job (a busybox sh script using sec and cut), keeps the
// console and argv in dir as console-N.log and argv-N.txt, and returns
// what the job printed. A launch that stops at cut is frozen and ended
// there (QMP stop, then quit): nothing written after the line reaches the
// disks.
func (kit *ZFSKit) Launch(ctx context.Context, dir string, n int, disks []ZFSDisk, job string) (*ZFSRun, error) {
	var table strings.Builder
	var qd []QEMUDisk
	for i, d := range disks {
		line, err := d.tableLine(fmt.Sprintf("vd%c", 'a'+i))
		if err != nil {
			return nil, err
		}
		table.WriteString(line)
		format := "raw"
		if strings.HasSuffix(d.Path, ".qcow2") {
			format = "qcow2"
		}
		qd = append(qd, QEMUDisk{Path: d.Path, Format: format, Interface: "virtio"})
	}
	var jobCPIO bytes.Buffer
	if err := writeCPIO(&jobCPIO, []cpioEntry{
		{Name: "vmtest/disks", Mode: modeFile | 0o644, Data: []byte(table.String())},
		{Name: "vmtest/job.sh", Mode: modeFile | 0o644, Data: []byte(job)},
	}); err != nil {
		return nil, err
	}
	initrd := filepath.Join(dir, fmt.Sprintf("initrd-%d.cpio", n))
	if err := os.WriteFile(initrd, append(append([]byte(nil), kit.Base...), jobCPIO.Bytes()...), 0o644); err != nil {
		return nil, err
	}
	defer os.Remove(initrd)
	os.WriteFile(filepath.Join(dir, fmt.Sprintf("job-%d.sh", n)), []byte(job), 0o644)
	sockDir, err := os.MkdirTemp("", "vmz")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(sockDir)
	qmp := filepath.Join(sockDir, "qmp")
	argv, err := QEMUArgs(QEMUOptions{
		Binary: kit.QEMU, Accel: kit.Accel, MemoryMB: 1024,
		Kernel: kit.Kernel, Initrd: initrd,
		// no_timer_check: on a loaded host TCG can be too slow for the
		// kernel's IO-APIC timer check, which then panics at boot.
		Append: "console=ttyS0 quiet loglevel=1 panic=-1 no_timer_check rdinit=/init",
		Disks:  qd, QMP: qmp, Serial: "stdio",
	})
	if err != nil {
		return nil, err
	}
	vm, err := startVM(dir, n, argv)
	if err != nil {
		return nil, err
	}
	defer vm.kill()
	start := vm.Started
	lines := consoleLines(vm.Console, vm.Log)
	run := &ZFSRun{Sections: map[string]Section{}}
	tail := func() string { return vm.tail(30) }
	stall := time.NewTimer(kit.StallLimit)
	defer stall.Stop()
	hard := time.NewTimer(kit.HardLimit)
	defer hard.Stop()
	var cur string
	var out strings.Builder
	done := false
	for lines != nil {
		select {
		case l, ok := <-lines:
			if !ok {
				lines = nil
				break
			}
			stall.Reset(kit.StallLimit)
			switch {
			case l == markReady:
				run.BootToReady = time.Since(start)
			case strings.HasPrefix(l, "@@vmtest section "):
				cur = strings.TrimPrefix(l, "@@vmtest section ")
				out.Reset()
			case strings.HasPrefix(l, markOutput) && cur != "":
				out.WriteString(strings.TrimPrefix(l, markOutput) + "\n")
			case strings.HasPrefix(l, "@@vmtest end "):
				f := strings.Fields(strings.TrimPrefix(l, "@@vmtest end "))
				if len(f) != 2 || f[0] != cur {
					return nil, fmt.Errorf("launch %d: a section's end %q does not match its start %q", n, l, cur)
				}
				rc, _ := strconv.Atoi(f[1])
				run.Sections[cur] = Section{Out: out.String(), RC: rc}
				cur = ""
			case l == markPause:
				run.Cut = true
				if err := freezeAndQuit(qmp); err != nil {
					return nil, fmt.Errorf("launch %d: power cut: %v", n, err)
				}
			case l == "@@vmtest done":
				done = true
			case strings.HasPrefix(l, "@@vmtest error"):
				return nil, fmt.Errorf("launch %d: %s\n%s", n, l, tail())
			}
		case <-stall.C:
			return nil, fmt.Errorf("launch %d: the console was silent for %v (stall limit); last lines:\n%s", n, kit.StallLimit, tail())
		case <-hard.C:
			return nil, fmt.Errorf("launch %d: still running after %v (hard limit); last lines:\n%s", n, kit.HardLimit, tail())
		case <-ctx.Done():
			return nil, fmt.Errorf("launch %d: %w; last lines:\n%s", n, ctx.Err(), tail())
		}
	}
	if err := vm.wait(); err != nil && !run.Cut {
		return nil, fmt.Errorf("launch %d: %v", n, err)
	}
	run.Wall = time.Since(start)
	if !done && !run.Cut {
		return nil, fmt.Errorf("launch %d: the guest ended before its job did; last lines:\n%s", n, tail())
	}
	return run, nil
}

// DiskLayout is how a golden disk is partitioned: its GPT partitions in
// order, and the device names its pool is created on.
type DiskLayout struct {
	// Name is what a scenario's disk_layout says.
	Name string
	// Preset is the simhost preset whose own disk layout this is
	// (bsdinstall's, which a scenario gets from its machine's preset),
	// "" for a layout a scenario names in disk_layout.
	Preset string
	Parts  []LayoutPart
	// PoolOnLabels: the pool is created on the pool partitions' GPT
	// labels (/dev/gpt/zfs0), not on their device names (/dev/ada0p4).
	PoolOnLabels bool
	// Align is gpart add -a's alignment, in sectors, of the partition
	// that runs to the end of the disk: gpart (sbin/geom/class/part/
	// geom_part.c gpart_autofill) rounds its size down so that it ends
	// aligned too, leaving the rest free (fixtures
	// gpart-show-uefi-bios-bsdinstall-260M-ada0.txt: 648 sectors free
	// after the pool partition aligned to 1M;
	// gpart-show-bios-only-mirror-sheridan.txt: 7 after one aligned to
	// 4K).
	Align int64
}

// LayoutPart is one partition of a layout, in 512-byte sectors: Sectors 0
// runs to the end of the disk. Label is the GPT label's prefix; the
// disk's unit number follows it (zfs0, zfs1 ...).
type LayoutPart struct {
	Index          int
	Type           string
	Start, Sectors int64
	Label          string
}

// The disk layouts of the golden disks, by name.
var (
	// bsdinstallLayout is bsdinstall's "GPT (BIOS+UEFI)" layout
	// (freebsd-src usr.sbin/bsdinstall/scripts/zfsboot,
	// zfs_create_diskpart: efi 260M labelled efiboot#, freebsd-boot 512K
	// gptboot#, swap and the pool partition zfs# aligned to 1M; fixture
	// gpart-show-uefi-bios-bsdinstall-260M-ada0.txt), with a small swap
	// for a test disk. zfs_create_boot creates the pool on the
	// partitions' device names ($disk$targetpart: ada0p4), not on the
	// labels it gave them.
	bsdinstallLayout = &DiskLayout{Name: "bsdinstall", Preset: "bios+uefi", Align: 2048, Parts: []LayoutPart{
		{1, "efi", 40, 532480, "efiboot"},
		{2, "freebsd-boot", 532520, 1024, "gptboot"},
		{3, "freebsd-swap", 534528, 131072, "swap"},
		{4, "freebsd-zfs", 665600, 0, "zfs"},
	}}
	// bsdinstallUEFILayout is bsdinstall's "GPT (UEFI)" layout: the
	// same zfs_create_diskpart without the freebsd-boot partition (it
	// adds one only where ZFSBOOT_BOOT_TYPE is BIOS or BIOS+UEFI), so
	// the swap is p2 and the pool partition p3, the pool created on
	// ada0p3.
	bsdinstallUEFILayout = &DiskLayout{Name: "bsdinstall-uefi", Preset: "uefi", Align: 2048, Parts: []LayoutPart{
		{1, "efi", 40, 532480, "efiboot"},
		{2, "freebsd-swap", 534528, 131072, "swap"},
		{3, "freebsd-zfs", 665600, 0, "zfs"},
	}}
	// bsdinstallBIOSLayout is bsdinstall's "GPT (BIOS)" layout, the
	// default where the installer was booted by BIOS (zfsboot's MAIN
	// sets ZFSBOOT_BOOT_TYPE BIOS unless machdep.bootmethod is UEFI):
	// zfs_create_diskpart adds no ESP, freebsd-boot 512K gptboot# first
	// (-a 4k: sector 40) and writes gptzfsboot into p1 (gpart bootcode
	// -i 1), then swap# and zfs# aligned to 1M (-a 1m: the swap at 2048),
	// the pool created on ada0p3 (targetpart p3 with a swap and no boot
	// pool); fixtures gpart-list-bios-bsdinstall-da0.txt and
	// gpart-show-bios-only-mirror-sheridan.txt, older installers that
	// aligned the swap to 4K only.
	bsdinstallBIOSLayout = &DiskLayout{Name: "bsdinstall-bios", Preset: "bios", Align: 2048, Parts: []LayoutPart{
		{1, "freebsd-boot", 40, 1024, "gptboot"},
		{2, "freebsd-swap", 2048, 131072, "swap"},
		{3, "freebsd-zfs", 133120, 0, "zfs"},
	}}
	// handMadeLayout is a disk an admin partitioned by hand in the
	// style of the FreeBSD wiki's RootOnZFS pages (gpart add -a 4k):
	// freebsd-boot 512K first (boot#), an ESP of 200M (efi#), the pool
	// partition (zfs#) over the rest and no swap, the pool created on
	// the GPT labels (zpool create ... mirror gpt/zfs0 gpt/zfs1), so
	// zpool status names its members gpt/zfs0 and gpt/zfs1.
	handMadeLayout = &DiskLayout{Name: "hand-made", PoolOnLabels: true, Align: 8, Parts: []LayoutPart{
		{1, "freebsd-boot", 40, 1024, "boot"},
		{2, "efi", 1064, 409600, "efi"},
		{3, "freebsd-zfs", 410664, 0, "zfs"},
	}}
	diskLayouts = map[string]*DiskLayout{bsdinstallLayout.Name: bsdinstallLayout, bsdinstallUEFILayout.Name: bsdinstallUEFILayout,
		bsdinstallBIOSLayout.Name: bsdinstallBIOSLayout, handMadeLayout.Name: handMadeLayout}
)

// sgdiskTypes are the sgdisk type codes of FreeBSD's GPT partition types
// (sgdisk -L).
var sgdiskTypes = map[string]string{
	"efi":          "ef00",
	"freebsd-boot": "a501",
	"freebsd-swap": "a502",
	"freebsd-zfs":  "a504",
}

// DiskMB is the size of a test disk (sparse): its pool has room for the 2
// GiB that zupgrade's free-space check asks of the boot pool.
const DiskMB = 4096

// machineLayout is the layout as a simhost spec lays out disk unit n
// (spec layouts), for a machine whose model must match the real disks.
func (l *DiskLayout) machineLayout(n int) []simhost.PartitionSpec {
	var out []simhost.PartitionSpec
	for _, p := range l.Parts {
		ps := simhost.PartitionSpec{Type: p.Type, Index: p.Index, Label: p.Label + strconv.Itoa(n)}
		if p.Sectors > 0 {
			ps.Size = strconv.FormatInt(p.Sectors/2, 10) + "K"
		}
		out = append(out, ps)
	}
	return out
}

// MakeFreeBSDDisk writes a raw disk image of DiskMB with the GPT of
// layout for disk unit n (the labels numbered n, as bsdinstall numbers
// them) and, where the layout has an ESP, a FAT32 file system on it, as
// newfs_msdos -F 32 -c 1 makes it, with bsdinstall's EFI directories.
// The freebsd-boot partition stays zeroed: boot code is written by the
// tests.
func MakeFreeBSDDisk(path string, layout *DiskLayout, n int) error {
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		return err
	}
	if err := os.Truncate(path, DiskMB<<20); err != nil {
		return err
	}
	args := []string{"-o", "-a", "8"} // -o first: it resets the alignment
	// The last usable sector: the backup GPT's 128 entries and header
	// take the disk's last 33 sectors.
	last := int64(DiskMB<<20)/512 - 34
	for _, p := range layout.Parts {
		end := p.Start + p.Sectors - 1
		if p.Sectors == 0 { // to the end of the disk, aligned
			end = (last+1)/layout.Align*layout.Align - 1
		}
		code, ok := sgdiskTypes[p.Type]
		if !ok {
			return fmt.Errorf("layout %s: no sgdisk type code for %s", layout.Name, p.Type)
		}
		args = append(args, "-n", fmt.Sprintf("%d:%d:%d", p.Index, p.Start, end), "-t", fmt.Sprintf("%d:%s", p.Index, code), "-c", fmt.Sprintf("%d:%s%d", p.Index, p.Label, n))
	}
	if out, err := exec.Command("sgdisk", append(args, path)...).CombinedOutput(); err != nil {
		return fmt.Errorf("sgdisk: %v\n%s", err, out)
	}
	parts, err := simhost.ReadGPT(path)
	if err != nil {
		return err
	}
	esp := findPart(parts, "efi")
	if esp == nil {
		return nil
	}
	fat, err := formatESP(path, esp, "EFISYS", "")
	if err != nil {
		return err
	}
	if out, err := exec.Command("mmd", "-i", fat, "::/EFI", "::/EFI/BOOT", "::/EFI/freebsd").CombinedOutput(); err != nil {
		return fmt.Errorf("mmd: %v\n%s", err, out)
	}
	return nil
}

// clearLabels empties the GPT labels of the layout's partitions on the
// disk image at path.
func clearLabels(path string, layout *DiskLayout) error {
	var args []string
	for _, p := range layout.Parts {
		args = append(args, "-c", fmt.Sprintf("%d:", p.Index))
	}
	if out, err := exec.Command("sgdisk", append(args, path)...).CombinedOutput(); err != nil {
		return fmt.Errorf("sgdisk: %v\n%s", err, out)
	}
	return nil
}

// findPart is the first partition of a type, nil when there is none.
func findPart(parts []*simhost.Partition, typ string) *simhost.Partition {
	for _, p := range parts {
		if p.Type == typ {
			return p
		}
	}
	return nil
}

// espImage is the mtools name of the ESP esp of the disk image at path
// (IMAGE@@OFFSET).
func espImage(path string, esp *simhost.Partition) string {
	return fmt.Sprintf("%s@@%d", path, esp.Start*512)
}

// formatESP makes a FAT32 file system on the ESP esp of the disk image at
// path, as newfs_msdos -F 32 -c 1 makes it, with a label and, when given,
// a serial number (8 hex digits); it returns the mtools name of the ESP.
func formatESP(path string, esp *simhost.Partition, label, serial string) (string, error) {
	fat := espImage(path, esp)
	args := []string{"-i", fat, "-T", strconv.FormatInt(esp.Size, 10), "-h", "64", "-s", "32", "-F", "-c", "1", "-v", label}
	if serial != "" {
		args = append(args, "-N", serial)
	}
	if out, err := exec.Command("mformat", append(args, "::")...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("mformat: %v\n%s", err, out)
	}
	return fat, nil
}

// Overlay makes a qcow2 overlay of a base image: the base stays as it is.
func Overlay(base, path string) error {
	out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("qemu-img create: %v\n%s", err, out)
	}
	return nil
}

// The host programs the ZFS guest's disks need, and their packages.
var zfsDiskTools = []struct{ prog, pkg string }{
	{"sgdisk", "gdisk"},
	{"mformat", "mtools"},
	{"mmd", "mtools"},
	{"mcopy", "mtools"},
	{"qemu-img", "qemu-utils"},
}

// MissingZFSDiskTools names what the host lacks to make the disks.
func MissingZFSDiskTools() []string {
	var missing []string
	for _, t := range zfsDiskTools {
		if _, err := exec.LookPath(t.prog); err != nil {
			missing = append(missing, fmt.Sprintf("%s (package %s)", t.prog, t.pkg))
		}
	}
	return missing
}
