// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"time"
)

// Sizes of the bsdinstall partitions, in 512-byte sectors.
const (
	sectorsBoot    = 1024    // freebsd-boot, 512K
	sectorsSwap    = 4194304 // freebsd-swap, 2G
	sectorsESP800K = 1600    // raw boot1.efifat image (10.1 to 12.0)
	sectorsESP200M = 409600  // FAT32 ESP (12.1 to 13.0)
	sectorsESP260M = 532480  // FAT32 ESP (13.1 on)
	sectorsAlign1M = 2048
)

// buildModel makes the model of a freshly installed machine from a
// normalized spec, and the files of its root directory.
func buildModel(s Spec) (*Model, map[string]treeFile, error) {
	rel := MustRelease(s.Release)
	kernel := rel
	// inst is the release whose installer laid out the disks and wrote
	// their boot code; freebsd-update never touches either.
	inst := rel
	if s.Installed != "" {
		inst = MustRelease(s.Installed)
	}
	if s.Kernel != "" {
		kernel = MustRelease(s.Kernel)
	}
	ids := idSource{seed: s.Hostname + "/" + s.Release + "/" + s.Preset}
	clock, _ := time.Parse(time.RFC3339, s.Clock)
	size, _ := parseSize(s.DiskSize)

	m := &Model{
		Format:   ModelFormat,
		Hostname: s.Hostname,
		Arch:     s.Arch,
		Clock:    clock,
		Power:    PowerOff,
		Behavior: Behavior{
			Conflicts:     s.Conflicts,
			Updates:       s.Updates,
			RepoOSVersion: map[string]int{},
			Jailed:        s.Jailed,
			KernelConfigs: s.KernelConfigs,
			Watchdog:      s.Watchdog,
		},
	}
	for k, v := range s.RepoOSVersion {
		m.Behavior.RepoOSVersion[k] = v
	}
	for _, ps := range s.Packages {
		if ps.NotInRepo {
			m.Behavior.RepoMissing = append(m.Behavior.RepoMissing, ps.Name)
		}
	}
	for _, f := range s.Faults {
		ff := *f
		m.Faults = append(m.Faults, &ff)
	}

	// Disks, laid out as bsdinstall does for the release.
	for i, name := range s.DiskNames {
		d := &Disk{
			Name:       name,
			Serial:     ids.serial("disk/" + name),
			Descr:      diskDescr(name),
			Sectors:    size / 512,
			SectorSize: 512,
			First:      40,
		}
		if !inst.AtLeast(10, 0) {
			d.First = 34
		}
		if parts, ok := s.Layouts[name]; ok {
			layoutPartitions(d, parts, inst, ids)
		} else {
			layoutDisk(d, s, inst, i, ids)
		}
		m.Disks = append(m.Disks, d)
	}

	// ESP contents, the firmware, and the boot code bsdinstall wrote.
	fw := Firmware{Mode: s.Firmware, DiskOrder: append([]string(nil), s.DiskNames...), BootCurrent: -1}
	for i, d := range m.Disks {
		if bp := findPartition(d, "freebsd-boot"); bp != nil && s.Preset != "uefi" {
			d.BootArea = makeBlob(BlobPMBR, inst, s.Arch)[:446]
			bp.Data = padSector(makeBlob(BlobGPTZFSBoot, inst, s.Arch))
		}
		esp := findPartition(d, "efi")
		if esp == nil {
			continue
		}
		if s.ESPs == "all" || (s.ESPs == "first" && i == 0) {
			esp.FAT = installerESP(inst, s.Arch, ids.u64("fat/"+d.Name))
		}
		if inst.AtLeast(13, 1) && esp.FAT != nil && i == 0 {
			fw.Entries = append(fw.Entries, &EFIEntry{Num: 0, Label: "FreeBSD", Active: true, PartUUID: esp.RawUUID, Path: `\efi\freebsd\loader.efi`})
			fw.BootOrder = append(fw.BootOrder, 0)
		}
	}
	m.Disks = append(m.Disks, otherDisks(s, size, ids)...)
	fw.DiskOrder = append(fw.DiskOrder, s.OtherDisks...)
	if err := addESPFiles(m, s); err != nil {
		return nil, nil, err
	}
	// The firmware's own entries: the removable-media path of every disk
	// with an ESP, in disk order.
	for _, d := range m.Disks {
		esp := findPartition(d, "efi")
		if esp == nil {
			continue
		}
		num := len(fw.Entries)
		fw.Entries = append(fw.Entries, &EFIEntry{Num: num, Label: "UEFI OS (" + d.Descr + ")", Active: true, PartUUID: esp.RawUUID, Path: `\EFI\BOOT\` + strings.ToUpper(fallbackName(s.Arch))})
		fw.BootOrder = append(fw.BootOrder, num)
	}
	m.Firmware = fw
	if err := addBootEntries(m, s); err != nil {
		return nil, nil, err
	}

	// The pool.
	p, err := buildPool(s, rel, ids, m.Disks[:len(s.DiskNames)], clock)
	if err != nil {
		return nil, nil, err
	}
	m.Pools = []*Pool{p}
	for _, name := range s.Resilvering {
		if err := m.resilverMember(name); err != nil {
			return nil, nil, fmt.Errorf("spec resilvering: %w", err)
		}
	}
	boot := bootFiles{pmbr: makeBlob(BlobPMBR, rel, s.Arch), gptzfsboot: makeBlob(BlobGPTZFSBoot, rel, s.Arch), loader: makeBlob(BlobLoaderEFI, rel, s.Arch)}
	for _, r := range s.Replaced {
		if err := m.replaceDisk(r, boot); err != nil {
			return nil, nil, fmt.Errorf("spec replaced: %w", err)
		}
	}

	// Files of the root directory.
	files := worldFiles(rel, s.Arch)
	if kernel != rel {
		for p, f := range worldFiles(kernel, s.Arch) {
			if strings.HasPrefix(p, "/boot/") {
				files[p] = f
			}
		}
	}
	if s.KernelIdent != "" && s.KernelIdent != GenericKernel {
		files["/boot/kernel/kernel"] = treeFile{Data: makeKernel(kernel, s.Arch, s.KernelIdent), Mode: 0o555}
	}
	addConfigFiles(files, s, inst, m)
	if err := addPackages(files, s, rel); err != nil {
		return nil, nil, err
	}

	m.RootFiles = s.RootDataset
	return m, files, nil
}

// espInFstab says whether the installer mounted the first ESP at /boot/efi.
func espInFstab(s Spec, rel Release) bool {
	if s.Preset == "bios" {
		return false
	}
	if s.ESPInFstab != nil {
		return *s.ESPInFstab
	}
	return rel.Has(CapESPMountedAtBootEFI) && s.ESPs != "none"
}

func diskDescr(name string) string {
	switch {
	case strings.HasPrefix(name, "nda"), strings.HasPrefix(name, "nvd"):
		return "Simulated NVMe SSD 512GB"
	case strings.HasPrefix(name, "vtbd"):
		return "VirtIO Block Device"
	default:
		return "Simulated SATA SSD 512GB"
	}
}

// layoutDisk creates the partitions bsdinstall makes for the preset.
func layoutDisk(d *Disk, s Spec, rel Release, n int, ids idSource) {
	var parts []PartitionSpec
	if s.Preset != "bios" {
		parts = append(parts, PartitionSpec{Type: "efi", Label: fmt.Sprintf("efiboot%d", n)})
	}
	if s.Preset != "uefi" {
		parts = append(parts, PartitionSpec{Type: "freebsd-boot", Label: fmt.Sprintf("gptboot%d", n)})
	}
	parts = append(parts,
		PartitionSpec{Type: "freebsd-swap", Label: fmt.Sprintf("swap%d", n)},
		PartitionSpec{Type: "freebsd-zfs", Label: fmt.Sprintf("zfs%d", n)})
	layoutPartitions(d, parts, rel, ids)
}

func findPartition(d *Disk, typ string) *Partition {
	for _, p := range d.Partitions {
		if p.Type == typ {
			return p
		}
	}
	return nil
}

// padSector zero-pads data to a whole number of 512-byte sectors, as
// gpart bootcode -p writes it.
func padSector(data []byte) []byte {
	n := (len(data) + 511) / 512 * 512
	out := make([]byte, n)
	copy(out, data)
	return out
}

// installerESP is the ESP bsdinstall of release rel leaves behind.
func installerESP(rel Release, arch string, serial uint64) *FAT {
	fallback := "efi/boot/" + fallbackName(arch)
	var files []*FATFile
	dir := func(p string) { files = append(files, &FATFile{Path: p, Dir: true}) }
	switch {
	case !rel.AtLeast(12, 1):
		dir("efi")
		dir("efi/boot")
		files = append(files, &FATFile{Path: "efi/boot/BOOTx64.efi", Data: makeBlob(BlobBoot1EFI, rel, arch)})
		return &FAT{Label: "EFI", Bits: 12, Serial: uint32(serial), Files: files, Synced: cloneFAT(files)}
	case !rel.AtLeast(13, 1):
		dir("efi")
		dir("efi/boot")
		files = append(files, &FATFile{Path: fallback, Data: makeBlob(BlobLoaderEFI, rel, arch)})
	default:
		dir("efi")
		dir("efi/boot")
		dir("efi/freebsd")
		files = append(files, &FATFile{Path: fallback, Data: makeBlob(BlobLoaderEFI, rel, arch)})
		files = append(files, &FATFile{Path: "efi/freebsd/loader.efi", Data: makeBlob(BlobLoaderEFI, rel, arch)})
	}
	return &FAT{Label: "EFISYS", Bits: 32, Serial: uint32(serial), Files: files, Synced: cloneFAT(files)}
}

// fallbackName is the removable-media boot file for the architecture.
func fallbackName(arch string) string {
	if arch == "arm64" {
		return "bootaa64.efi"
	}
	return "bootx64.efi"
}

func cloneFAT(files []*FATFile) []*FATFile {
	out := make([]*FATFile, len(files))
	for i, f := range files {
		c := *f
		c.Data = append([]byte(nil), f.Data...)
		out[i] = &c
	}
	return out
}

// memberName is how zpool status names a pool member on a partition.
func memberName(naming string, d *Disk, p *Partition, geli bool) string {
	var n string
	switch naming {
	case "gpt-label":
		n = "gpt/" + p.Label
	case "gptid":
		n = "gptid/" + p.RawUUID
	case "diskid":
		n = fmt.Sprintf("diskid/DISK-%sp%d", d.Serial, p.Index)
	default:
		n = fmt.Sprintf("%sp%d", d.Name, p.Index)
	}
	if geli {
		n += ".eli"
	}
	return n
}

// buildPool makes the boot pool over the disks' freebsd-zfs partitions.
func buildPool(s Spec, rel Release, ids idSource, disks []*Disk, clock time.Time) (*Pool, error) {
	creator := MustRelease(s.PoolRelease)
	p := &Pool{
		Name:          s.Pool,
		GUID:          ids.u64("pool/" + s.Pool),
		Version:       creator.PoolVersion(),
		Compatibility: s.Compatibility,
		Bootfs:        s.RootDataset,
		Scan:          "none requested",
	}
	if s.PoolVersion != 0 {
		if s.PoolVersion > rel.PoolVersion() {
			return nil, fmt.Errorf("spec: pool version %d is newer than %s supports", s.PoolVersion, rel)
		}
		p.Version = s.PoolVersion
	}
	if p.Version > rel.PoolVersion() {
		return nil, fmt.Errorf("spec: a pool made by %s cannot be used by %s", creator, rel)
	}
	if p.Version >= 5000 {
		p.Features = map[string]string{}
		for _, f := range featuresOf(creator) {
			if !f.supportedBy(rel) {
				continue
			}
			state := "enabled"
			if f.ActivateOnEnable || f.UsedByDefault {
				state = "active"
			}
			p.Features[f.Name] = state
		}
	}
	for name, state := range s.Features {
		f, ok := LookupFeature(name)
		if !ok {
			return nil, fmt.Errorf("spec: unknown feature %q", name)
		}
		if p.Version < 5000 {
			return nil, fmt.Errorf("spec: feature %s on a legacy pool", name)
		}
		switch state {
		case "disabled":
			delete(p.Features, f.Name)
		case "enabled", "active":
			p.Features[f.Name] = state
		default:
			return nil, fmt.Errorf("spec: feature %s state %q (want disabled, enabled or active)", name, state)
		}
	}
	var leaves []*Vdev
	for _, d := range disks {
		part := findPartition(d, "freebsd-zfs")
		leaves = append(leaves, &Vdev{Type: "disk", Name: memberName(s.Naming, d, part, s.Geli), GUID: ids.u64("vdev/" + d.Name), Disk: d.Name, Index: part.Index})
		p.Size += part.Size * 512
	}
	switch s.Vdev {
	case "mirror":
		p.Vdevs = []*Vdev{{Type: "mirror", GUID: ids.u64("mirror-0"), Children: leaves}}
		p.Size /= int64(len(leaves))
	case "raidz1":
		p.Vdevs = []*Vdev{{Type: "raidz1", GUID: ids.u64("raidz1-0"), Children: leaves}}
		p.Size = p.Size / int64(len(leaves)) * int64(len(leaves)-1)
	default:
		p.Vdevs = leaves
	}
	p.Alloc = 2 << 30
	zpl := creator.ZPLVersion()
	ds := func(name, mnt, canmount string) {
		p.Datasets = append(p.Datasets, &Dataset{Name: name, Mountpoint: mnt, Canmount: canmount, Version: zpl, Created: clock.Add(-time.Hour), Used: 96 << 10})
	}
	if s.RootDataset == s.Pool {
		ds(s.Pool, "/", "on")
		ds(s.Pool+"/tmp", "/tmp", "on")
		ds(s.Pool+"/usr/home", "/usr/home", "on")
		ds(s.Pool+"/var/log", "/var/log", "on")
	} else {
		ds(s.Pool, "/"+s.Pool, "on")
		ds(path.Dir(s.RootDataset), "none", "on")
		ds(s.RootDataset, "/", "noauto")
		if rel.AtLeast(14, 0) {
			ds(s.Pool+"/home", "/home", "on")
		} else {
			ds(s.Pool+"/usr", "/usr", "off")
			ds(s.Pool+"/usr/home", "/usr/home", "on")
		}
		ds(s.Pool+"/tmp", "/tmp", "on")
		ds(s.Pool+"/var", "/var", "off")
		for _, v := range []string{"audit", "crash", "log", "mail", "tmp"} {
			ds(s.Pool+"/var/"+v, "/var/"+v, "on")
		}
	}
	for _, d := range p.Datasets {
		if d.Name == s.RootDataset {
			d.Used = 1800 << 20
		}
	}
	sort.SliceStable(p.Datasets, func(i, j int) bool { return p.Datasets[i].Name < p.Datasets[j].Name })
	return p, nil
}

// addConfigFiles adds the files an installed system has beyond the
// distribution: rc.conf, fstab, directories that must exist.
func addConfigFiles(files map[string]treeFile, s Spec, rel Release, m *Model) {
	rc := fmt.Sprintf("hostname=\"%s\"\nzfs_enable=\"YES\"\nsshd_enable=\"YES\"\ndumpdev=\"AUTO\"\n", s.Hostname)
	files["/etc/rc.conf"] = treeFile{Data: []byte(rc), Mode: 0o644}
	var fstab strings.Builder
	fstab.WriteString("# Device\t\tMountpoint\tFStype\tOptions\t\tDump\tPass#\n")
	if line := fstabESPLine(s, rel, m); line != "" {
		fstab.WriteString(line)
	}
	for _, d := range m.Disks {
		if sw := findPartition(d, "freebsd-swap"); sw != nil {
			fmt.Fprintf(&fstab, "/dev/%sp%d\t\tnone\tswap\tsw\t\t0\t0\n", d.Name, sw.Index)
		}
	}
	files["/etc/fstab"] = treeFile{Data: []byte(fstab.String()), Mode: 0o644}
	dirs := []string{"/var/db/freebsd-update", "/usr/local/etc/rc.d", "/mnt", "/root", "/var/log", "/tmp", "/media"}
	if espInFstab(s, rel) || s.FstabESP != nil {
		dirs = append(dirs, "/boot/efi")
	}
	for _, d := range dirs {
		files[d] = treeFile{Mode: fs.ModeDir | 0o755}
	}
}

// fstabESPLine is the /boot/efi line of /etc/fstab: bsdinstall's (the
// first ESP by its GPT label, 13.2 on), or the spec's.
func fstabESPLine(s Spec, inst Release, m *Model) string {
	f := s.FstabESP
	if f == nil {
		esp := findPartition(m.Disks[0], "efi")
		if !espInFstab(s, inst) || esp == nil {
			return ""
		}
		// bsdinstall names the ESP by its label; a disk laid out by hand
		// may have none.
		dev := "/dev/gpt/efiboot0"
		if esp.Label != "efiboot0" {
			dev = "/dev/" + partName(m.Disks[0], esp)
			if esp.Label != "" {
				dev = "/dev/gpt/" + esp.Label
			}
		}
		return dev + "\t/boot/efi\tmsdosfs\trw\t\t2\t2\n"
	}
	d := m.disk(f.Disk)
	esp := findPartition(d, "efi")
	if esp == nil {
		return ""
	}
	dev := fmt.Sprintf("/dev/%sp%d", d.Name, esp.Index)
	if f.By == "label" && esp.Label != "" {
		dev = "/dev/gpt/" + esp.Label
	}
	opts := "rw"
	if f.Failok {
		opts += ",failok"
	}
	return fmt.Sprintf("%s\t/boot/efi\tmsdosfs\t%s\t\t2\t2\n", dev, opts)
}

// otherDisks makes the disks outside the pool: a GPT with one 260M FAT32
// ESP, empty until esp_files fill it.
func otherDisks(s Spec, size int64, ids idSource) []*Disk {
	var out []*Disk
	for _, name := range s.OtherDisks {
		d := &Disk{Name: name, Serial: ids.serial("disk/" + name), Descr: diskDescr(name), Sectors: size / 512, SectorSize: 512, First: 40}
		esp := &Partition{Index: 1, Type: "efi", RawUUID: ids.uuid(name + "/efi"), Start: sectorsAlign1M, Size: sectorsESP260M}
		esp.FAT = &FAT{Label: "EFISYS", Bits: 32, Serial: uint32(ids.u64("fat/" + name))}
		d.Partitions = []*Partition{esp}
		out = append(out, d)
	}
	return out
}

// addESPFiles writes the spec's esp_files onto the ESPs, creating the
// directories they need, and syncs them.
func addESPFiles(m *Model, s Spec) error {
	for _, f := range s.ESPFiles {
		d := m.disk(f.Disk)
		esp := findPartition(d, "efi")
		if esp == nil || esp.FAT == nil {
			return fmt.Errorf("spec esp_files: %s has no formatted ESP (see esps)", f.Disk)
		}
		p := cleanFAT(f.Path)
		var dirs []string
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			dirs = append([]string{dir}, dirs...)
		}
		for _, dir := range dirs {
			esp.FAT.mkdir(dir)
		}
		data := []byte(f.Text)
		switch f.Program {
		case BlobLoaderEFI, BlobBoot1EFI:
			data = makeBlob(f.Program, MustRelease(f.Release), s.Arch)
		case "grub", "windows":
			data = foreignBlob(f.Program)
		}
		esp.FAT.write(p, data)
		esp.FAT.sync()
	}
	return nil
}

// addBootEntries adds the spec's boot entries (each at the end of
// BootOrder), orders BootOrder by the spec's labels, and arms the entry
// the first boot is to start (boot_current) as BootNext.
func addBootEntries(m *Model, s Spec) error {
	fw := &m.Firmware
	for _, be := range s.BootEntries {
		esp := findPartition(m.disk(be.Disk), "efi")
		if esp == nil {
			return fmt.Errorf("spec boot_entries: %s has no ESP", be.Disk)
		}
		num := 0
		for fw.efiEntry(num) != nil {
			num++
		}
		fw.Entries = append(fw.Entries, &EFIEntry{Num: num, Label: be.Label, Active: !be.Inactive, PartUUID: esp.RawUUID, Path: `\` + strings.ReplaceAll(cleanFAT(be.Path), "/", `\`)})
		fw.BootOrder = append(fw.BootOrder, num)
	}
	byLabel := func(label string) (int, error) {
		for _, e := range fw.Entries {
			if e.Label == label {
				return e.Num, nil
			}
		}
		return 0, fmt.Errorf("spec: no boot entry labelled %q", label)
	}
	if len(s.BootOrder) > 0 {
		var order []int
		for _, l := range s.BootOrder {
			n, err := byLabel(l)
			if err != nil {
				return err
			}
			order = append(order, n)
		}
		for _, n := range fw.BootOrder {
			if !slices.Contains(order, n) {
				order = append(order, n)
			}
		}
		fw.BootOrder = order
	}
	if s.BootCurrent != "" {
		n, err := byLabel(s.BootCurrent)
		if err != nil {
			return err
		}
		fw.BootNext = &n
	}
	return nil
}
