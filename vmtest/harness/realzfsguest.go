// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/zupgrade/zupgrade/vmtest/guestzfs"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// RealZFSDir is where the real zpool and zfs are in a guest with real
// OpenZFS (the assets' /sbin).
const RealZFSDir = "/sbin"

// realZFSInit is sourced by the guest's /init when the kit has real
// OpenZFS: it loads spl and zfs, links each pool disk of the launch
// under its FreeBSD names (linkDisks), and imports zroot from the pool
// partitions present, offered under all their names so that the pool
// keeps the ones it was created on (linkDisks), without
// mounting its datasets (the machine's files stay on the ext4 disk) and
// without a cache file; -f because the last launch may have ended by a
// power cut or a reboot, with the pool still imported.
const realZFSInit = `while read -r m; do insmod "/$m" 2>/dev/null; done < /vmtest/zfs-modules
[ -c /dev/zfs ] || echo "@@vmtest error no /dev/zfs after loading the modules"
` + linkDisks + `/sbin/zpool import -N -f -o cachefile=none $pooldevs zroot > /tmp/import.out 2>&1 || { echo "@@vmtest error zpool import: $(cat /tmp/import.out)"; poweroff -f; }
# The first launch sets the pool up as the machine's model says (its
# compatibility property).
[ -f /vmtest/zfs-setup.sh ] && . /vmtest/zfs-setup.sh
`

// WithZFS returns a kit whose guests also have real OpenZFS (the assets,
// built for the kit's kernel): the base initramfs with the ZFS modules,
// zpool and zfs with their libraries and compatibility profiles appended,
// and the init step that imports the machine's pool from its disks.
// golden are the raw images of the pool's disks by disk layout (ada0
// first, made with MakeFreeBSDDisk and holding zroot); each guest runs on
// its own copies of its layout's, and its simhost's zpool and zfs are the
// real ones.
func (kit *GuestKit) WithZFS(dir string, a *guestzfs.Assets, golden map[string][]ZFSDisk) (*GuestKit, error) {
	if len(golden) == 0 {
		return nil, fmt.Errorf("a guest with real OpenZFS needs the pool's disks")
	}
	if err := assetsMatchKernel(a); err != nil {
		return nil, err
	}
	files, err := assetEntries(a)
	if err != nil {
		return nil, err
	}
	files = append(files,
		cpioEntry{Name: "vmtest/zfs.sh", Mode: modeFile | 0o644, Data: []byte(realZFSInit)},
		cpioEntry{Name: "vmtest/zfs-modules", Mode: modeFile | 0o644, Data: []byte(strings.Join(a.Modules, "\n") + "\n")})
	var b bytes.Buffer
	b.Write(kit.Base)
	if err := writeCPIO(&b, append(dirEntries(files), files...)); err != nil {
		return nil, err
	}
	zk := *kit
	zk.Base = b.Bytes()
	zk.BasePath = filepath.Join(dir, "base-zfs.cpio")
	zk.zfs, zk.golden = true, golden
	return &zk, os.WriteFile(zk.BasePath, zk.Base, 0o644)
}

// realPoolDisks gives a guest its own sparse raw copies of the pool's
// golden disks, with the boot code the machine's model was installed with
// (bsdinstall's gpart bootcode: pmbr in sector 0, gptzfsboot in the
// freebsd-boot partition, wherever the real GPT has it) written into
// them, and makes the machine's zpool, zfs, gpart and boot decision use
// them (AdoptGPT, UseRealZFS, UseRealDisks over the guest's /dev links).
func realPoolDisks(m *simhost.Machine, golden []ZFSDisk, dir string) ([]ZFSDisk, error) {
	for _, gd := range golden {
		// The model takes the real disks' layout and GUIDs: gpart reads
		// the real GPT.
		if err := m.AdoptGPT(gd.Name, gd.Path); err != nil {
			return nil, err
		}
	}
	model, err := m.Model()
	if err != nil {
		return nil, err
	}
	var pool []ZFSDisk
	for _, gd := range golden {
		var d *simhost.Disk
		for _, md := range model.Disks {
			if md.Name == gd.Name {
				d = md
			}
		}
		if d == nil {
			return nil, fmt.Errorf("the machine has no disk %s", gd.Name)
		}
		disk := gd.at(filepath.Join(dir, gd.Name+".img"))
		if err := sparseCopy(gd.Path, disk.Path); err != nil {
			return nil, err
		}
		if err := writeModelBootCode(disk, d); err != nil {
			return nil, fmt.Errorf("the boot code on %s: %w", disk.Path, err)
		}
		if err := seedRealESP(disk, d); err != nil {
			return nil, fmt.Errorf("the ESP on %s: %w", disk.Path, err)
		}
		pool = append(pool, disk)
	}
	if err := m.UseRealZFS(RealZFSDir); err != nil {
		return nil, err
	}
	// The running system's root is its boot environment's real dataset.
	if err := m.UseRealRoot(); err != nil {
		return nil, err
	}
	return pool, m.UseRealDisks("/dev")
}

// writeModelBootCode writes the boot code of the model's disk d into the
// real disk image: its boot area into sector 0, its freebsd-boot
// partition's code at the start of the real freebsd-boot partition.
func writeModelBootCode(disk ZFSDisk, d *simhost.Disk) error {
	f, err := os.OpenFile(disk.Path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(d.BootArea, 0)
	for _, p := range d.Partitions {
		if p.Type != "freebsd-boot" || err != nil {
			continue
		}
		rp := disk.part("freebsd-boot")
		if rp == nil || rp.Index != p.Index {
			err = fmt.Errorf("%s's freebsd-boot partition is p%d, the real disk has none there", d.Name, p.Index)
			break
		}
		_, err = f.WriteAt(p.Data, rp.Start*512)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// seedRealESP gives the real ESP of a guest's disk what the model's ESP
// of disk d holds as the machine was installed: a FAT32 with the model's
// label, serial and files (bsdinstall's loaders), or no file system at
// all (its boot sector zeroed) where the model's ESP has none.
func seedRealESP(disk ZFSDisk, d *simhost.Disk) error {
	for _, p := range d.Partitions {
		if p.Type != "efi" {
			continue
		}
		rp := disk.part("efi")
		if rp == nil || p.Index != rp.Index || p.Start != rp.Start {
			return fmt.Errorf("%s's ESP is p%d at %d, the real disk's is not", d.Name, p.Index, p.Start)
		}
		if p.FAT == nil {
			f, err := os.OpenFile(disk.Path, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			_, err = f.WriteAt(make([]byte, 64*1024), rp.Start*512)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return err
		}
		if p.FAT.Bits != 32 {
			return fmt.Errorf("%s's ESP is FAT%d; the real disk's is FAT32", d.Name, p.FAT.Bits)
		}
		esp, err := formatESP(disk.Path, rp, p.FAT.Label, fmt.Sprintf("%08x", p.FAT.Serial))
		if err != nil {
			return err
		}
		tmp, err := os.MkdirTemp("", "esp")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		files := slices.Clone(p.FAT.Synced)
		// Parents before what they hold.
		slices.SortFunc(files, func(a, b *simhost.FATFile) int { return strings.Compare(a.Path, b.Path) })
		for _, f := range files {
			var out []byte
			if f.Dir {
				out, err = exec.Command("mmd", "-i", esp, "::/"+f.Path).CombinedOutput()
			} else {
				src := filepath.Join(tmp, "file")
				if err = os.WriteFile(src, f.Data, 0o644); err == nil {
					out, err = exec.Command("mcopy", "-o", "-i", esp, src, "::/"+f.Path).CombinedOutput()
				}
			}
			if err != nil {
				return fmt.Errorf("%s: %v\n%s", f.Path, err, out)
			}
		}
	}
	return nil
}

// compatibleProfile matches a compatibility property's value: off,
// legacy, or profile names (lib/libzfs/libzfs_util.c
// zpool_load_compat: names of files under compatibility.d, comma
// separated).
var compatibleProfile = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*(,[a-z0-9][a-z0-9._-]*)*$`)

// realPoolSetup is the first launch's script that gives the real pool
// what the model's pool has and the golden pool lacks: its compatibility
// property (the golden pool's is off).
func realPoolSetup(m *simhost.Machine) (string, error) {
	model, err := m.Model()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range model.Pools {
		if p.Compatibility == "" || p.Compatibility == "off" {
			continue
		}
		if !compatibleProfile.MatchString(p.Compatibility) || !compatibleProfile.MatchString(p.Name) {
			return "", fmt.Errorf("pool %q: compatibility %q is no list of profile names", p.Name, p.Compatibility)
		}
		fmt.Fprintf(&b, "/sbin/zpool set %s %s > /tmp/setup.out 2>&1 || { echo \"@@vmtest error zpool set compatibility: $(cat /tmp/setup.out)\"; poweroff -f; }\n",
			shellQuote("compatibility="+p.Compatibility), shellQuote(p.Name))
	}
	return b.String(), nil
}

// sparseCopy copies a disk image, leaving holes where it is zero.
func sparseCopy(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	for off := int64(0); ; {
		n, err := in.ReadAt(buf, off)
		if n > 0 && len(bytes.TrimRight(buf[:n], "\x00")) > 0 {
			if _, werr := out.WriteAt(buf[:n], off); werr != nil {
				out.Close()
				return werr
			}
		}
		off += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			out.Close()
			return err
		}
	}
	if err := out.Truncate(st.Size()); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// checkRealBootCode compares the boot code the guest's model says its
// freebsd-boot partitions and ESPs hold with what the raw disk images
// hold, read on the host after the guest ended: the machine's
// /boot/gptzfsboot (bootFiles: its root is a real dataset) at the start
// of each present pool disk's real freebsd-boot partition (where the
// layout has one: bsdinstall's GPT (UEFI) has none), its
// /boot/loader.efi on the FAT in its real ESP (checkRealESP; bsdinstall's
// GPT (BIOS) has none).
func (g *LinuxGuest) checkRealBootCode(o *Outcome) error {
	said := o.BootCode
	gz, loader, err := g.bootFiles(o)
	if err != nil {
		return err
	}
	for _, d := range g.pool {
		if g.removed[d.Name] {
			continue
		}
		if bp := d.part("freebsd-boot"); bp != nil {
			f, err := os.Open(d.Path)
			if err != nil {
				return err
			}
			buf := make([]byte, 64*1024)
			_, err = f.ReadAt(buf, bp.Start*512)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", d.Path, err)
			}
			line := fmt.Sprintf("%sp%d %s", d.Name, bp.Index, same(buf, gz))
			if !slices.Contains(said, line) {
				return fmt.Errorf("the guest says the boot code is %q, the real disk image %s holds %q", said, d.Path, line)
			}
		} else if d.Layout.Preset != "uefi" {
			return fmt.Errorf("%s has no freebsd-boot partition", d.Path)
		}
		if d.part("efi") == nil && d.Layout.Preset == "bios" {
			continue
		}
		if err := checkRealESP(d, said, loader); err != nil {
			return err
		}
	}
	return nil
}

// checkRealESP compares what the guest says disk d's ESP holds (its lines
// of Outcome.BootCode, BootCodeOf) with the real FAT file system in the
// disk image's real ESP, read with mtools: the loaders as real files.
func checkRealESP(d ZFSDisk, said []string, loader []byte) error {
	p := d.part("efi")
	if p == nil {
		return fmt.Errorf("%s has no ESP", d.Path)
	}
	esp := espImage(d.Path, p)
	name := fmt.Sprintf("%sp%d", d.Name, p.Index)
	var real []string
	for _, p := range []string{"efi/boot/bootx64.efi", "efi/freebsd/loader.efi"} {
		data, err := exec.Command("mcopy", "-n", "-i", esp, "::/"+p, "-").Output()
		if err == nil {
			real = append(real, name+":"+p+" "+same(data, loader))
		}
	}
	if len(real) == 0 {
		real = append(real, name+" no loader")
	}
	var guest []string
	for _, l := range said {
		if strings.HasPrefix(l, name+":") || strings.HasPrefix(l, name+" ") {
			guest = append(guest, l)
		}
	}
	if strings.Join(guest, "\n") != strings.Join(real, "\n") {
		return fmt.Errorf("the guest says %s holds %q, the real FAT in %s holds %q", name, guest, d.Path, real)
	}
	return nil
}

// replaceRealDisks puts a new disk in place of each pool disk replaced
// before the job: a blank disk with the others' partition table (as
// gpart backup | gpart restore leaves it: the disk's layout made again
// by MakeFreeBSDDisk, an empty FAT ESP, nothing in the other partitions,
// no GPT labels unless the admin gave them, r.Labels: gpart restore
// sets them only with -l, sbin/geom/class/part/geom_part.c
// gpart_restore). The guest's ReplaceDisk then writes its boot code and
// zpool-replaces onto it.
func (g *LinuxGuest) replaceRealDisks(rs []simhost.Replacement) error {
	for _, r := range rs {
		for i, d := range g.pool {
			if d.Name != r.Disk {
				continue
			}
			if err := MakeFreeBSDDisk(d.Path, d.Layout, i); err != nil {
				return fmt.Errorf("the new disk %s: %w", d.Name, err)
			}
			if !r.Labels {
				if err := clearLabels(d.Path, d.Layout); err != nil {
					return fmt.Errorf("the new disk %s: %w", d.Name, err)
				}
			}
			nd, err := readZFSDisk(d.Name, d.Path, d.Layout)
			if err != nil {
				return fmt.Errorf("the new disk %s: %w", d.Name, err)
			}
			g.pool[i] = nd
			g.removed[d.Name] = false
		}
	}
	return nil
}
