// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// PartitionSpec is one GPT partition of a disk laid out by hand (spec
// layouts): admins partition disks themselves, in any order, with any
// indexes and labels.
type PartitionSpec struct {
	// Type is the gpart type: efi, freebsd-boot, freebsd-swap,
	// freebsd-zfs or freebsd-ufs.
	Type string `json:"type"`
	// Index is the GPT entry; the default is one more than the one before.
	Index int `json:"index,omitempty"`
	// Label is the GPT label (gpart add -l); none when empty.
	Label string `json:"label,omitempty"`
	// Size is like 512K or 2G; the default is what bsdinstall gives the
	// type, and the rest of the disk for freebsd-zfs.
	Size string `json:"size,omitempty"`
}

// Replacement is a disk of the pool that died and was replaced: a new,
// blank disk at the same name, partitioned like the others (gpart backup
// of a healthy member piped to gpart restore, which copies no labels),
// then `zpool replace POOL OLD NEW`, as in the fixture
// gpart-restore-modify-bootcode-zpool-replace.txt.
type Replacement struct {
	// Disk is the name of the disk that was replaced.
	Disk string `json:"disk"`
	// Resilvering: the resilver onto the new disk still runs; zpool
	// status shows a replacing-N group holding the old member (as
	// NAME/old when the new one has its name) and the new one.
	Resilvering bool `json:"resilvering,omitempty"`
	// Labels: the admin gave the new partitions the old disk's GPT labels
	// (gpart modify -l), so the member keeps a gpt/ name.
	Labels bool `json:"labels,omitempty"`
	// Bootcode: the admin wrote boot code on the new disk (gpart bootcode
	// -b /boot/pmbr -p /boot/gptzfsboot, as zpool replace suggests) and
	// formatted its ESP with the loader (newfs_msdos, cp /boot/loader.efi);
	// without it both are blank.
	Bootcode bool `json:"bootcode,omitempty"`
}

// partitionTypes are the gpart types a layout may use.
var partitionTypes = []string{"efi", "freebsd-boot", "freebsd-swap", "freebsd-zfs", "freebsd-ufs"}

// checkDisks checks the layouts, resilvering and replaced disks of a
// spec whose disk names are set.
func (s Spec) checkDisks() error {
	for name, parts := range s.Layouts {
		if !slices.Contains(s.DiskNames, name) {
			return fmt.Errorf("layouts: no disk %q (disks are %s)", name, strings.Join(s.DiskNames, ", "))
		}
		seen := map[int]bool{}
		zfs := 0
		next := 1
		for _, p := range parts {
			if !slices.Contains(partitionTypes, p.Type) {
				return fmt.Errorf("layouts %s: partition type %q (want one of %s)", name, p.Type, strings.Join(partitionTypes, ", "))
			}
			idx := p.Index
			if idx == 0 {
				idx = next
			}
			if idx < 1 || idx > 128 || seen[idx] {
				return fmt.Errorf("layouts %s: index %d is out of 1-128 or used twice", name, idx)
			}
			seen[idx] = true
			next = idx + 1
			if p.Size != "" {
				if _, err := parseSize(p.Size); err != nil {
					return fmt.Errorf("layouts %s: %w", name, err)
				}
			}
			if p.Type == "freebsd-zfs" {
				zfs++
				if s.Naming == "gpt-label" && p.Label == "" {
					return fmt.Errorf("layouts %s: naming gpt-label needs a label on the freebsd-zfs partition", name)
				}
			}
		}
		if zfs != 1 {
			return fmt.Errorf("layouts %s: %d freebsd-zfs partitions (want one, the pool member)", name, zfs)
		}
	}
	for _, n := range s.Resilvering {
		if !slices.Contains(s.DiskNames, n) {
			return fmt.Errorf("resilvering: no disk %q", n)
		}
	}
	for _, r := range s.Replaced {
		if !slices.Contains(s.DiskNames, r.Disk) {
			return fmt.Errorf("replaced: no disk %q", r.Disk)
		}
		if s.Vdev == "stripe" {
			return fmt.Errorf("replaced: %s belongs to a stripe, which cannot survive the loss of a disk", r.Disk)
		}
	}
	return nil
}

// layoutPartitions creates the partitions of a layout, the preset's or one
// made by hand. Sizes left out are bsdinstall's; a freebsd-zfs partition
// without a size takes the rest of the disk, less what the partitions after
// it need. Partitions follow each other in the order given: a freebsd-boot
// partition or an ESP right after the one before, the others 1 MiB aligned
// from 10.0, as usr.sbin/bsdinstall/scripts/zfsboot (zfs_create_diskpart)
// lays them out.
func layoutPartitions(d *Disk, parts []PartitionSpec, rel Release, ids idSource) {
	next := d.First
	aligned := rel.AtLeast(10, 0)
	align := func(v int64) int64 {
		if !aligned {
			return v
		}
		return (v + sectorsAlign1M - 1) / sectorsAlign1M * sectorsAlign1M
	}
	end := d.Last() + 1
	if aligned {
		end = end / sectorsAlign1M * sectorsAlign1M
	}
	sizeOf := func(ps PartitionSpec) int64 {
		switch {
		case ps.Size != "":
			n, _ := parseSize(ps.Size)
			return n / 512
		case ps.Type == "efi" && !rel.AtLeast(12, 1):
			return sectorsESP800K
		case ps.Type == "efi" && !rel.AtLeast(13, 1):
			return sectorsESP200M
		case ps.Type == "efi":
			return sectorsESP260M
		case ps.Type == "freebsd-boot":
			return sectorsBoot
		case ps.Type == "freebsd-swap":
			return sectorsSwap
		}
		return 0
	}
	idx := 1
	seen := map[string]bool{}
	for i, ps := range parts {
		if ps.Index != 0 {
			idx = ps.Index
		}
		start := next
		if ps.Type != "freebsd-boot" && ps.Type != "efi" {
			start = align(next)
		}
		size := sizeOf(ps)
		if size == 0 {
			rest := int64(0)
			for _, q := range parts[i+1:] {
				rest += sizeOf(q)
			}
			size = end - start - rest
		}
		// The first partition of a type keeps the identifier it has always
		// had, so that a preset's machine stays the same.
		id := d.Name + "/" + ps.Type
		if seen[ps.Type] {
			id = fmt.Sprintf("%s/%d", id, idx)
		}
		seen[ps.Type] = true
		d.Partitions = append(d.Partitions, &Partition{Index: idx, Type: ps.Type, Label: ps.Label, RawUUID: ids.uuid(id), Start: start, Size: size})
		next = start + size
		idx++
	}
}

// Resilver is a resilver of a pool: running, or finished at End.
type Resilver struct {
	Start time.Time `json:"start"`
	// Done says it finished; End is when.
	Done bool      `json:"done,omitempty"`
	End  time.Time `json:"end,omitempty"`
	// Bytes is what it resilvered so far (or in all); Percent how far it is.
	Bytes   int64   `json:"bytes"`
	Percent float64 `json:"percent"`
}

// scanText is the pool's scan line (and the lines below it) as zpool
// status prints them for a resilver (print_scan_status and
// print_scan_scrub_resilver_status in cmd/zpool/zpool_main.c): OpenZFS 2.2
// on (FreeBSD 14) prints "X / Y scanned at R/s, X / Y issued at R/s" and
// "N resilvered, P% done, HH:MM:SS to go"; OpenZFS 2.0 and 2.1 (13.x)
// and FreeBSD's ZFS from 12.0 (sequential scrub and resilver) print "X
// scanned at R/s, X issued at R/s, Y total" and "..., D days HH:MM:SS to
// go"; before them "X scanned out of Y at R/s, HhMm to go" and "N
// resilvered, P% done".
func (r *Resilver) scanText(zfs Release, total int64) string {
	if r.Done {
		took := r.End.Sub(r.Start)
		h, m, s := int(took.Hours()), int(took.Minutes())%60, int(took.Seconds())%60
		when := r.End.Format("Mon Jan _2 15:04:05 2006")
		if zfs.AtLeast(13, 0) {
			return fmt.Sprintf("resilvered %s in %02d:%02d:%02d with 0 errors on %s", nicenum(r.Bytes), h, m, s, when)
		}
		return fmt.Sprintf("resilvered %s in %dh%dm with 0 errors on %s", nicenum(r.Bytes), h, m, when)
	}
	scanned := int64(float64(total) * r.Percent / 100)
	left := 201 * time.Second
	since := "resilver in progress since " + r.Start.Format("Mon Jan _2 15:04:05 2006")
	switch {
	case zfs.AtLeast(14, 0):
		return fmt.Sprintf("%s\n\t%s / %s scanned at 402M/s, %s / %s issued at 264M/s\n\t%s resilvered, %.2f%% done, %02d:%02d:%02d to go",
			since, nicenum(scanned), nicenum(total), nicenum(scanned), nicenum(total), nicenum(r.Bytes), r.Percent,
			int(left.Hours()), int(left.Minutes())%60, int(left.Seconds())%60)
	case zfs.AtLeast(12, 0):
		return fmt.Sprintf("%s\n\t%s scanned at 402M/s, %s issued at 264M/s, %s total\n\t%s resilvered, %.2f%% done, 0 days %02d:%02d:%02d to go",
			since, nicenum(scanned), nicenum(scanned), nicenum(total), nicenum(r.Bytes), r.Percent,
			int(left.Hours()), int(left.Minutes())%60, int(left.Seconds())%60)
	}
	return fmt.Sprintf("%s\n    %s scanned out of %s at 402M/s, 0h3m to go\n    %s resilvered, %.2f%% done",
		since, nicenum(scanned), nicenum(total), nicenum(r.Bytes), r.Percent)
}

// startResilver starts a resilver of the pool now.
func (m *Model) startResilver(p *Pool) {
	p.Resilver = &Resilver{Start: m.Clock, Bytes: p.Alloc * 43 / 100, Percent: 43.61}
}

// resilverMember marks the pool member on disk as being resilvered (it
// came back after an absence).
func (m *Model) resilverMember(disk string) error {
	for _, p := range m.Pools {
		for _, v := range p.leaves() {
			if v.Disk == disk {
				v.Resilvering = true
				m.startResilver(p)
				return nil
			}
		}
	}
	return fmt.Errorf("disk %s holds no pool member", disk)
}

// FinishResilver lets every running resilver finish: members are no longer
// resilvering, and the old halves of replacing groups are detached, as
// OpenZFS does when a replace completes (spa_vdev_resilver_done).
func (m *Machine) FinishResilver() error {
	return m.Update(func(model *Model) error {
		model.finishResilver()
		return nil
	})
}

func (m *Model) finishResilver() {
	for _, p := range m.Pools {
		if p.Resilver == nil || p.Resilver.Done {
			continue
		}
		var walk func(vs []*Vdev) []*Vdev
		walk = func(vs []*Vdev) []*Vdev {
			for i, v := range vs {
				v.Resilvering = false
				v.Children = walk(v.Children)
				if v.Type == "replacing" && len(v.Children) > 0 {
					vs[i] = v.Children[len(v.Children)-1]
				}
			}
			return vs
		}
		p.Vdevs = walk(p.Vdevs)
		end := p.Resilver.Start.Add(5*time.Minute + 12*time.Second)
		if m.Clock.After(end) {
			end = m.Clock
		}
		p.Resilver.Done, p.Resilver.End = true, end
		p.Resilver.Bytes, p.Resilver.Percent = p.Alloc, 100
	}
}

// ReplaceDisk replaces a disk of the pool, dead or not, by a new blank
// disk at the same name, as an admin does (see Replacement): partitioned
// like the disk it replaces, the pool member replaced onto it, resilvered
// or (r.Resilvering) still resilvering. Boot code, when r.Bootcode, comes
// from the running system's /boot.
func (m *Machine) ReplaceDisk(r Replacement) error {
	pmbr, _ := os.ReadFile(m.HostPath("/boot/pmbr"))
	gz, _ := os.ReadFile(m.HostPath("/boot/gptzfsboot"))
	loader, _ := os.ReadFile(m.HostPath("/boot/loader.efi"))
	return m.Update(func(model *Model) error {
		pool, old := model.memberOn(r.Disk)
		if err := model.replaceDisk(r, bootFiles{pmbr: pmbr, gptzfsboot: gz, loader: loader}); err != nil {
			return err
		}
		return m.replaceReal(model, r, pool, old)
	})
}

// bootFiles are the boot programs an admin writes to a new disk.
type bootFiles struct{ pmbr, gptzfsboot, loader []byte }

func (m *Model) replaceDisk(r Replacement, boot bootFiles) error {
	d := m.disk(r.Disk)
	if d == nil {
		return fmt.Errorf("no disk %q", r.Disk)
	}
	var pool *Pool
	var old *Vdev
	var parent *Vdev
	for _, p := range m.Pools {
		var walk func(v, up *Vdev)
		walk = func(v, up *Vdev) {
			if v.Type == "disk" && v.Disk == r.Disk {
				pool, old, parent = p, v, up
			}
			for _, c := range v.Children {
				walk(c, v)
			}
		}
		for _, v := range p.Vdevs {
			walk(v, nil)
		}
	}
	if old == nil {
		return fmt.Errorf("disk %s holds no pool member", r.Disk)
	}
	if parent == nil {
		return fmt.Errorf("cannot replace %s: the pool has no other copy of its data", old.Name)
	}
	ids := idSource{seed: fmt.Sprintf("%s/replaced/%s/%d", m.Hostname, r.Disk, m.Clock.UnixNano())}

	// The new disk: gpart restore of a healthy member's table, no labels
	// unless the admin set them, nothing written in the partitions.
	d.Missing = false
	d.Serial = ids.serial("disk/" + d.Name)
	d.BootArea = nil
	for _, p := range d.Partitions {
		uuid := ids.uuid(fmt.Sprintf("%s/%s/%d", d.Name, p.Type, p.Index))
		// The firmware makes its own removable-media entry for the new
		// disk's ESP at the next boot (UEFI specification, Boot Manager:
		// boot via the Simple File Protocol, \EFI\BOOT\BOOT{arch}.EFI);
		// entries an OS created (efibootmgr -c) keep naming the partition
		// that is gone.
		for _, e := range m.Firmware.Entries {
			if e.PartUUID == p.RawUUID && strings.HasPrefix(e.Label, "UEFI OS") {
				e.PartUUID = uuid
			}
		}
		p.RawUUID = uuid
		if !r.Labels {
			p.Label = ""
		}
		p.Data, p.FAT, p.Corrupt = nil, nil, ""
		if !r.Bootcode {
			continue
		}
		switch p.Type {
		case "freebsd-boot":
			p.Data = padSector(boot.gptzfsboot)
			d.BootArea = append([]byte(nil), boot.pmbr[:min(446, len(boot.pmbr))]...)
		case "efi":
			files := []*FATFile{{Path: "efi", Dir: true}, {Path: "efi/boot", Dir: true}, {Path: "efi/freebsd", Dir: true},
				{Path: "efi/boot/" + fallbackName(m.Arch), Data: boot.loader}, {Path: "efi/freebsd/loader.efi", Data: boot.loader}}
			p.FAT = &FAT{Label: "EFISYS", Bits: 32, Serial: uint32(ids.u64("fat/" + d.Name)), Files: files, Synced: cloneFAT(files)}
		}
	}

	// zpool replace POOL OLD NEW: the new member is named as the admin
	// named it, the same way as the old one where the new disk allows.
	part := m.partition(d.Name, old.Index)
	naming := "partition"
	switch {
	case strings.HasPrefix(old.Name, "gpt/") && part.Label != "":
		naming = "gpt-label"
	case strings.HasPrefix(old.Name, "gptid/"):
		naming = "gptid"
	case strings.HasPrefix(old.Name, "diskid/"):
		naming = "diskid"
	}
	nv := &Vdev{Type: "disk", Name: memberName(naming, d, part, strings.HasSuffix(old.Name, ".eli")), GUID: ids.u64("vdev/" + d.Name), Disk: d.Name, Index: old.Index}
	for i, c := range parent.Children {
		if c != old {
			continue
		}
		if !r.Resilvering {
			parent.Children[i] = nv
			break
		}
		// The old member stays in a replacing group until the resilver is
		// done; when the new one has its path, the old one is NAME/old
		// (spa_vdev_attach in module/zfs/spa.c).
		gone := *old
		gone.Disk = ""
		if gone.Name == nv.Name {
			gone.Name += "/old"
		}
		nv.Resilvering = true
		parent.Children[i] = &Vdev{Type: "replacing", GUID: ids.u64("replacing/" + d.Name), Children: []*Vdev{&gone, nv}}
	}
	m.startResilver(pool)
	if !r.Resilvering {
		m.finishResilver()
	}
	return nil
}

// detach is zpool detach POOL DEVICE (zpool_vdev_detach in
// lib/libzfs/libzfs_pool.c, spa_vdev_detach in module/zfs/spa.c): the
// device leaves a mirror or replacing group; a group left with one child
// is replaced by it.
func (p *Pool) detach(device string) error {
	var found bool
	var err error
	var walk func(vs []*Vdev, parent *Vdev) []*Vdev
	walk = func(vs []*Vdev, parent *Vdev) []*Vdev {
		for i := 0; i < len(vs); i++ {
			v := vs[i]
			if v.Type == "disk" && (v.Name == device || fmt.Sprint(v.GUID) == device || "/dev/"+v.Name == device) {
				found = true
				switch {
				case parent == nil || (parent.Type != "mirror" && parent.Type != "replacing"):
					err = fmt.Errorf("cannot detach %s: only applicable to mirror and replacing vdevs", device)
				case len(vs) == 1:
					err = fmt.Errorf("cannot detach %s: no valid replicas", device)
				default:
					vs = append(vs[:i:i], vs[i+1:]...)
					i--
				}
				continue
			}
			v.Children = walk(v.Children, v)
			if len(v.Children) == 1 && (v.Type == "mirror" || v.Type == "replacing") {
				vs[i] = v.Children[0]
			}
		}
		return vs
	}
	p.Vdevs = walk(p.Vdevs, nil)
	if !found {
		return fmt.Errorf("cannot detach %s: no such device in pool", device)
	}
	return err
}
