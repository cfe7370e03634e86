// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// GPT partition type GUIDs.
var rawTypes = map[string]string{
	"efi":          "c12a7328-f81f-11d2-ba4b-00a0c93ec93b",
	"freebsd-boot": "83bd6b9d-7f41-11dc-be0b-001560b84f0f",
	"freebsd-swap": "516e7cb5-6ecf-11d6-8ff8-00022d09712b",
	"freebsd-zfs":  "516e7cba-6ecf-11d6-8ff8-00022d09712b",
	"freebsd-ufs":  "516e7cb6-6ecf-11d6-8ff8-00022d09712b",
}

// openMode is how a partition is opened (GEOM access counts r, w, e):
// pool members and mounted ESPs exclusively, swap for writing.
func (m *Model) openMode(d *Disk, p *Partition) (r, w, e int) {
	for _, pool := range m.Pools {
		for _, v := range pool.leaves() {
			if v.Disk == d.Name && v.Index == p.Index {
				return 1, 1, 1
			}
		}
	}
	if m.Running != nil {
		for _, mt := range m.Running.Mounts {
			if mt.Disk == d.Name && mt.Index == p.Index {
				return 1, 1, 1
			}
		}
	}
	if p.Type == "freebsd-swap" {
		return 1, 1, 0
	}
	return 0, 0, 0
}

// presentDisks lists the disks that are attached.
func (m *Model) presentDisks() []*Disk {
	var out []*Disk
	for _, d := range m.Disks {
		if !d.Missing {
			out = append(out, d)
		}
	}
	return out
}

func cmdGpart(inv *Invocation) int {
	if len(inv.Args) == 0 {
		inv.errf("usage: gpart <command> [options]\n")
		return 1
	}
	sub, args := inv.Args[0], inv.Args[1:]
	switch sub {
	case "list":
		return gpartList(inv, args)
	case "show":
		return gpartShow(inv, args)
	case "bootcode":
		return gpartBootcode(inv, args)
	}
	return inv.unsupported("gpart " + sub)
}

// selectDisks picks the geoms named (all when none); names may carry /dev/.
func selectDisks(inv *Invocation, names []string) ([]*Disk, bool) {
	if len(names) == 0 {
		return inv.model.presentDisks(), true
	}
	var out []*Disk
	for _, n := range names {
		d := inv.model.disk(strings.TrimPrefix(n, "/dev/"))
		if d == nil || d.Missing {
			inv.errf("gpart: No such geom: %s.\n", n)
			return nil, false
		}
		out = append(out, d)
	}
	return out, true
}

func fwGeometry(d *Disk) (heads, sectors int) {
	if strings.HasPrefix(d.Name, "da") {
		return 255, 63
	}
	return 16, 63
}

func gpartList(inv *Invocation, args []string) int {
	_, names, err := getopt(args, "a")
	if err != nil {
		return inv.unsupported("gpart list " + err.Error())
	}
	disks, ok := selectDisks(inv, names)
	if !ok {
		return 1
	}
	efimedia := inv.runningKernel().AtLeast(12, 0)
	for _, d := range disks {
		t, err := inv.gpt(d)
		if err != nil {
			inv.errf("gpart: %v\n", err)
			return 1
		}
		heads, secs := fwGeometry(d)
		inv.out("Geom name: %s\nmodified: false\nstate: OK\nfwheads: %d\nfwsectors: %d\nlast: %d\nfirst: %d\nentries: %d\nscheme: GPT\nProviders:\n", d.Name, heads, secs, t.last, t.first, t.entries)
		var cr, cw, ce int
		for i, p := range t.parts {
			r, w, e := inv.model.openMode(d, p)
			cr, cw, ce = cr+r, cw+w, ce+e
			length := p.Size * 512
			offset := p.Start * 512
			label := p.Label
			if label == "" {
				label = "(null)"
			}
			inv.out("%d. Name: %s\n", i+1, partName(d, p))
			inv.out("   Mediasize: %d (%s)\n   Sectorsize: 512\n   Stripesize: 0\n   Stripeoffset: %d\n   Mode: r%dw%de%d\n", length, humanBytes(length), offset, r, w, e)
			if efimedia {
				inv.out("   efimedia: HD(%d,GPT,%s,%#x,%#x)\n", p.Index, p.RawUUID, p.Start, p.Size)
			}
			inv.out("   rawuuid: %s\n   rawtype: %s\n   label: %s\n   length: %d\n   offset: %d\n   type: %s\n   index: %d\n   end: %d\n   start: %d\n",
				p.RawUUID, rawType(p.Type), label, length, offset, p.Type, p.Index, p.Start+p.Size-1, p.Start)
		}
		if cr > 0 {
			cr, cw, ce = cr+1, cw+1, ce+2
		}
		inv.out("Consumers:\n1. Name: %s\n   Mediasize: %d (%s)\n   Sectorsize: 512\n   Mode: r%dw%de%d\n\n", d.Name, t.sectors*512, humanBytes(t.sectors*512), cr, cw, ce)
	}
	return 0
}

func gpartShow(inv *Invocation, args []string) int {
	opts, names, err := getopt(args, "lpr")
	if err != nil {
		return inv.unsupported("gpart show " + err.Error())
	}
	disks, ok := selectDisks(inv, names)
	if !ok {
		return 1
	}
	for i, d := range disks {
		t, err := inv.gpt(d)
		if err != nil {
			inv.errf("gpart: %v\n", err)
			return 1
		}
		if i > 0 {
			inv.out("\n")
		}
		wblocks := len(strconv.FormatInt(t.last, 10))
		wname := len(d.Name)
		if has(opts, 'p') {
			for _, p := range t.parts {
				if n := len(partName(d, p)); n > wname {
					wname = n
				}
			}
		}
		inv.out("=>%*d  %*d  %*s  GPT  (%s)\n", wblocks, t.first, wblocks, t.last-t.first+1, wname, d.Name, humanBytes(t.sectors*512))
		next := t.first
		free := func(from, to int64) {
			if to > from {
				inv.out("  %*d  %*d  %*s  - free -  (%s)\n", wblocks, from, wblocks, to-from, wname, "", humanBytes((to-from)*512))
			}
		}
		// sbin/geom/class/part/geom_part.c gpart_show_geom walks the
		// partitions by their start (find_provider), the gaps between
		// them shown as free.
		parts := slices.Clone(t.parts)
		slices.SortFunc(parts, func(a, b *Partition) int { return cmp.Compare(a.Start, b.Start) })
		for _, p := range parts {
			free(next, p.Start)
			idx := strconv.Itoa(p.Index)
			if has(opts, 'p') {
				idx = partName(d, p)
			}
			what := p.Type
			if has(opts, 'r') {
				what = rawType(p.Type)
			}
			if has(opts, 'l') {
				what = p.Label
				if what == "" {
					what = "(null)"
				}
			}
			inv.out("  %*d  %*d  %*s  %s  (%s)\n", wblocks, p.Start, wblocks, p.Size, wname, idx, what, humanBytes(p.Size*512))
			next = p.Start + p.Size
		}
		free(next, t.last+1)
	}
	return 0
}

func gpartBootcode(inv *Invocation, args []string) int {
	opts, names, err := getopt(args, "b:p:i:f:N")
	if err != nil {
		return inv.unsupported("gpart bootcode " + err.Error())
	}
	if has(opts, 'f') || has(opts, 'N') {
		return inv.unsupported("gpart bootcode -f/-N")
	}
	if len(names) != 1 {
		inv.errf("usage: gpart bootcode [-N] [-b bootcode] [-p partcode -i index] [-f flags] geom\n")
		return 1
	}
	bootFile, haveBoot := value(opts, 'b')
	partFile, havePart := value(opts, 'p')
	if !haveBoot && !havePart {
		inv.errf("gpart: no -b nor -p\n")
		return 1
	}
	disks, ok := selectDisks(inv, names)
	if !ok {
		return 1
	}
	d := disks[0]
	rel := inv.runningKernel()
	var bootcode, partcode []byte
	if haveBoot {
		if bootcode, err = inv.readFile(inv.resolve(bootFile)); err != nil {
			inv.errf("gpart: %s: %v\n", bootFile, err)
			return 1
		}
		if len(bootcode) > 800*1024 {
			inv.errf("gpart: %s: file too big (%d limit)\n", bootFile, 800*1024)
			return 1
		}
	}
	var target *Partition
	if havePart {
		idx, ok := value(opts, 'i')
		if !ok {
			inv.errf("gpart: missing -i option\n")
			return 1
		}
		n, err := strconv.Atoi(idx)
		if err != nil {
			inv.errf("gpart: invalid partition index\n")
			return 1
		}
		for _, p := range d.Partitions {
			if p.Index == n {
				target = p
			}
		}
		if target == nil {
			inv.errf("gpart: invalid partition index\n")
			return 1
		}
		if partcode, err = inv.readFile(inv.resolve(partFile)); err != nil {
			inv.errf("gpart: %s: %v\n", partFile, err)
			return 1
		}
		if int64(len(partcode)) > target.Size*512 {
			inv.errf("gpart: /dev/%s: not enough space\n", partName(d, target))
			return 1
		}
		if _, _, e := inv.model.openMode(d, target); e > 0 {
			inv.errf("gpart: /dev/%s: Operation not permitted\n", partName(d, target))
			return 1
		}
	}
	if haveBoot {
		n := len(bootcode)
		if n > 446 {
			n = 446
		}
		d.BootArea = append([]byte(nil), bootcode[:n]...)
	}
	if dir := inv.m.realDisks(); dir != "" {
		if err := writeRealBootcode(dir, d, bootcode, target, partcode); err != nil {
			inv.errf("gpart: %v\n", err)
			return 1
		}
	}
	if target != nil {
		writePartcode(target, partcode)
		switch {
		case !rel.AtLeast(9, 0):
		case rel.AtLeast(11, 0):
			inv.out("partcode written to %s\n", partName(d, target))
		}
	}
	if !rel.AtLeast(9, 0) {
		inv.out("%s has bootcode\n", d.Name)
	} else {
		inv.out("bootcode written to %s\n", d.Name)
	}
	return 0
}

// writePartcode writes code at the start of a partition, zero-padded to a
// sector, as gpart bootcode -p does; whatever the partition held there
// before is overwritten.
func writePartcode(p *Partition, code []byte) {
	padded := padSector(code)
	if len(p.Data) > len(padded) {
		padded = append(padded, p.Data[len(padded):]...)
	}
	p.Data = padded
	switch p.Type {
	case "freebsd-boot":
		p.Corrupt = ""
	case "efi":
		if b, ok := parseBlob(code); ok && b.Kind == BlobEFIFAT {
			files := []*FATFile{{Path: "efi", Dir: true}, {Path: "efi/boot", Dir: true}, {Path: "efi/boot/BOOTx64.efi", Data: makeBlob(BlobBoot1EFI, b.Release, b.Arch)}}
			p.FAT = &FAT{Label: "EFI", Bits: 12, Serial: 0x1234abcd, Files: files, Synced: cloneFAT(files)}
			p.Corrupt = ""
			return
		}
		p.FAT = nil
		p.Corrupt = "boot code written over the file system"
	default:
		p.Corrupt = "boot code written over the partition"
	}
}

// labelEntry is one GEOM label provider.
type labelEntry struct{ name, comp string }

// labels lists the label providers glabel status shows, hiding those of
// providers opened through another name (GEOM withers them).
func (inv *Invocation) labels() []labelEntry {
	m := inv.model
	openedAs := map[string]string{}
	for _, p := range m.Pools {
		for _, v := range p.leaves() {
			openedAs[fmt.Sprintf("%s/%d", v.Disk, v.Index)] = strings.TrimSuffix(v.Name, ".eli")
		}
	}
	if m.Running != nil {
		for _, mt := range m.Running.Mounts {
			openedAs[fmt.Sprintf("%s/%d", mt.Disk, mt.Index)] = strings.TrimPrefix(mt.Device, "/dev/")
		}
	}
	naming := ""
	if p := m.bootPool(); p != nil {
		for _, v := range p.leaves() {
			switch {
			case strings.HasPrefix(v.Name, "gptid/"):
				naming = "gptid"
			case strings.HasPrefix(v.Name, "diskid/"):
				naming = "diskid"
			}
		}
	}
	var out []labelEntry
	for _, d := range m.presentDisks() {
		if naming == "diskid" {
			out = append(out, labelEntry{"diskid/DISK-" + d.Serial, d.Name})
		}
	}
	for _, d := range m.presentDisks() {
		for _, p := range d.Partitions {
			comp := partName(d, p)
			used, isOpen := openedAs[fmt.Sprintf("%s/%d", d.Name, p.Index)]
			show := func(name string) bool { return !isOpen || used == name }
			if p.Label != "" && show("gpt/"+p.Label) {
				out = append(out, labelEntry{"gpt/" + p.Label, comp})
			}
			if naming == "gptid" && show("gptid/"+p.RawUUID) {
				out = append(out, labelEntry{"gptid/" + p.RawUUID, comp})
			}
			if p.FAT != nil && p.FAT.Label != "" && show("msdosfs/"+p.FAT.Label) {
				out = append(out, labelEntry{"msdosfs/" + p.FAT.Label, comp})
			}
		}
	}
	return out
}

func cmdGlabel(inv *Invocation) int {
	if len(inv.Args) == 0 || (inv.Args[0] != "status" && inv.Args[0] != "list") {
		if len(inv.Args) == 0 {
			inv.errf("usage: glabel <command> [options]\n")
			return 1
		}
		return inv.unsupported("glabel " + inv.Args[0])
	}
	if inv.Args[0] == "list" {
		return inv.unsupported("glabel list")
	}
	opts, names, err := getopt(inv.Args[1:], "s")
	if err != nil {
		return inv.unsupported("glabel status " + err.Error())
	}
	var rows []labelEntry
	for _, l := range inv.labels() {
		if len(names) == 0 {
			rows = append(rows, l)
			continue
		}
		for _, n := range names {
			if n == l.name || n == l.comp {
				rows = append(rows, l)
			}
		}
	}
	if len(names) > 0 && len(rows) == 0 {
		inv.errf("glabel: No such geom: %s.\n", names[0])
		return 1
	}
	width := len("Name")
	for _, r := range rows {
		if len(r.name) > width {
			width = len(r.name)
		}
	}
	if has(opts, 's') {
		for _, r := range rows {
			inv.out("%*s  N/A  %s\n", width, r.name, r.comp)
		}
		return 0
	}
	inv.out("%*s  Status  Components\n", width, "Name")
	for _, r := range rows {
		inv.out("%*s     N/A  %s\n", width, r.name, r.comp)
	}
	return 0
}

// cmdNewfsMsdos is newfs_msdos(8) with -F, -c and -L: it makes an empty
// FAT file system on a partition (whatever the partition held is gone).
func cmdNewfsMsdos(inv *Invocation) int {
	opts, args, err := getopt(inv.Args, "F:c:L:")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	if len(args) != 1 {
		inv.errf("usage: newfs_msdos [ -options ] special [disktype]\n")
		return 1
	}
	v := inv.resolve(args[0])
	if !v.dev || v.part == nil {
		inv.errf("newfs_msdos: %s: No such file or directory\n", args[0])
		return 1
	}
	if _, _, e := inv.model.openMode(v.disk, v.part); e > 0 {
		inv.errf("newfs_msdos: %s: Operation not permitted\n", args[0])
		return 1
	}
	bits := 32
	if f, ok := value(opts, 'F'); ok {
		switch f {
		case "12", "16", "32":
			bits, _ = strconv.Atoi(f)
		default:
			inv.errf("newfs_msdos: %s: bad FAT type\n", f)
			return 1
		}
	}
	label, ok := value(opts, 'L')
	if !ok {
		label = "NO_NAME"
	}
	p := v.part
	if dir := inv.m.realDisks(); dir != "" {
		// A real FAT on the real partition, made by the guest's mkdosfs
		// (busybox: FAT32 only, its own layout rather than
		// sbin/newfs_msdos/mkfs_msdos.c's), then read back as mounted.
		if bits != 32 {
			return inv.unsupported("newfs_msdos -F " + strconv.Itoa(bits) + " on a real disk")
		}
		if err := runReal("mkdosfs", "-n", label, filepath.Join(dir, partName(v.disk, p))); err != nil {
			inv.errf("newfs_msdos: %v\n", err)
			return 1
		}
	}
	p.FAT = &FAT{Label: label, Bits: bits, Serial: uint32(inv.model.Clock.Unix())}
	p.FAT.sync()
	p.Data = nil
	p.Corrupt = ""
	fatSecs := p.Size/128 + 1
	inv.out("%s: %d sectors in %d FAT%d clusters (512 bytes/cluster)\n", args[0], p.Size-32-2*fatSecs, p.Size-32-2*fatSecs, bits)
	inv.out("BytesPerSec=512 SecPerClust=1 ResSectors=32 FATs=2 Media=0xf0 SecPerTrack=63 Heads=16 HiddenSecs=0 HugeSectors=%d FATsecs=%d RootCluster=2 FSInfo=1 Backup=2\n", p.Size, fatSecs)
	return 0
}
