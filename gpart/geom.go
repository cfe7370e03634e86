// SPDX-License-Identifier: BSD-2-Clause

package gpart

import "strings"

// Partition types zupgrade acts on, as gpart prints them.
const (
	// TypeFreeBSDBoot is the GPT partition that holds gptzfsboot (BIOS boot).
	TypeFreeBSDBoot = "freebsd-boot"
	// TypeEFI is the EFI system partition (GPT, and MBR type 0xef).
	TypeEFI = "efi"
	// TypeFreeBSDZFS is a partition holding a ZFS pool member.
	TypeFreeBSDZFS = "freebsd-zfs"
)

// Partition is one partition of a partition table: a provider of the GEOM
// PART class. Sizes in sectors (Start, End) and bytes (Offset, Length,
// MediaSize) are as the kernel reports them; fields the source does not
// carry (older gpart prints no efimedia, MBR and BSD print no rawuuid or
// label) are empty.
type Partition struct {
	// Name is the provider name, e.g. "ada0p2", "nda0p1", "ada0s1a",
	// "diskid/DISK-Y39B70RTK7ASp1". /dev/Name is its device node.
	Name string
	// Index is the entry number in the table (gpart's -i), 1-based.
	Index int
	// Type is gpart's type name: "freebsd-boot", "efi", "freebsd-zfs",
	// "freebsd" (an MBR slice holding a BSD label), "!12" for types
	// gpart has no name for.
	Type string
	// Label is the GPT partition label; empty when none ("(null)").
	Label string
	// RawUUID is the GPT partition's unique GUID (what gptid/ names).
	RawUUID string
	// RawType is the scheme's raw type: a GUID on GPT, a number on MBR/BSD.
	RawType string
	// Start and End are the first and last sector of the partition.
	Start, End uint64
	// Offset and Length are the partition's position and size in bytes.
	Offset, Length uint64
	// MediaSize is the provider's size in bytes.
	MediaSize uint64
	// SectorSize is the provider's sector size in bytes.
	SectorSize uint64
	// EFIMedia is the UEFI device path of the partition, e.g.
	// "HD(1,GPT,<uuid>,0x28,0x82000)"; empty before FreeBSD 12.
	EFIMedia string
	// Attributes are gpart's attributes ("active", "bootme", ...).
	Attributes []string
}

// Size returns the partition's size in bytes: its media size, or its length
// when the source gave no media size.
func (p Partition) Size() uint64 {
	if p.MediaSize != 0 {
		return p.MediaSize
	}
	return p.Length
}

// Consumer is the provider a partition table lives on: the disk for a
// top-level table, a slice for a BSD label nested in an MBR slice.
type Consumer struct {
	// Name is the provider name, e.g. "ada0", "diskid/DISK-Y39B70RTK7AS",
	// "ada0s1".
	Name string
	// MediaSize is its size in bytes (0 when the source does not say).
	MediaSize uint64
	// SectorSize is its sector size in bytes (0 when the source does not say).
	SectorSize uint64
}

// Geom is one partition table: a geom of the GEOM PART class. Its name is the
// name of the provider it lives on, which is also what `gpart bootcode` and
// the other gpart verbs take as their geom argument.
type Geom struct {
	// Name is the geom name, e.g. "ada0", "nda0", "diskid/DISK-Y39B70RTK7AS".
	Name string
	// Scheme is the partitioning scheme: "GPT", "MBR", "BSD", "EBR", ...
	Scheme string
	// State is "OK" or "CORRUPT".
	State string
	// First and Last are the first and last usable sectors.
	First, Last uint64
	// Entries is the number of entries the table has room for.
	Entries int
	// Partitions are the table's partitions in the order the source lists them.
	Partitions []Partition
	// Consumer is the provider the table lives on.
	Consumer Consumer
}

// Label ties a GEOM label provider to the provider it labels, as glabel
// status prints it.
type Label struct {
	// Name is the label provider, e.g. "gpt/zfs0", "gptid/<uuid>",
	// "diskid/DISK-<serial>", "msdosfs/EFISYS".
	Name string
	// Status is glabel's status column ("N/A").
	Status string
	// Component is the labelled provider, e.g. "ada1p3" or "ada0".
	Component string
}

// Layout is what zupgrade knows of a host's disks: partition tables and
// labels. Build it from ParseList and ParseGlabelStatus.
type Layout struct {
	// Geoms are the partition tables (GEOM PART class).
	Geoms []Geom
	// Labels are the GEOM label providers.
	Labels []Label
}

// Geom returns the partition table with the given geom name.
func (l *Layout) Geom(name string) (Geom, bool) {
	for _, g := range l.Geoms {
		if g.Name == name {
			return g, true
		}
	}
	return Geom{}, false
}

// Partition returns the partition whose provider name is name, with the
// partition table that holds it.
func (l *Layout) Partition(name string) (Partition, Geom, bool) {
	for _, g := range l.Geoms {
		for _, p := range g.Partitions {
			if p.Name == name {
				return p, g, true
			}
		}
	}
	return Partition{}, Geom{}, false
}

// LabelsOf returns the labels whose component is the provider name, in the
// order the source lists them.
func (l *Layout) LabelsOf(name string) []Label {
	var out []Label
	for _, lb := range l.Labels {
		if lb.Component == name {
			out = append(out, lb)
		}
	}
	return out
}

// DevicePaths returns the device nodes through which provider name can be
// opened: /dev/<name> followed by /dev/<label> for each of its labels.
func (l *Layout) DevicePaths(name string) []string {
	out := []string{"/dev/" + name}
	for _, lb := range l.LabelsOf(name) {
		out = append(out, "/dev/"+lb.Name)
	}
	return out
}

// DiskGeom returns the outermost partition table holding geom name: for a BSD
// label nested in an MBR slice (geom "ada0s1" on consumer "ada0s1", itself a
// partition of geom "ada0") it returns the "ada0" table; for a top-level table
// it returns the table itself.
func (l *Layout) DiskGeom(name string) (Geom, bool) {
	g, ok := l.Geom(name)
	if !ok {
		return Geom{}, false
	}
	for depth := 0; depth < len(l.Geoms); depth++ {
		_, outer, found := l.Partition(g.Consumer.Name)
		if !found || outer.Name == g.Name {
			break
		}
		g = outer
	}
	return g, true
}

// PhysicalDisks returns the disks under provider name, following partitions
// and labels down: "diskid/DISK-X" yields the disk it labels. A provider
// that nothing in the layout explains (a gmirror's "mirror/gm0") is
// returned as is.
func (l *Layout) PhysicalDisks(name string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(n string, depth int)
	walk = func(n string, depth int) {
		if seen[n] || depth > 32 {
			return
		}
		seen[n] = true
		if _, g, ok := l.Partition(n); ok {
			walk(g.Consumer.Name, depth+1)
			return
		}
		if lb, ok := l.uniqueLabel(n); ok {
			walk(lb.Component, depth+1)
			return
		}
		out = append(out, n)
	}
	walk(strings.TrimPrefix(name, "/dev/"), 0)
	return out
}

// uniqueLabel returns the label named n when exactly one component carries it.
func (l *Layout) uniqueLabel(n string) (Label, bool) {
	var found []Label
	for _, lb := range l.Labels {
		if lb.Name == n {
			found = append(found, lb)
		}
	}
	if len(found) == 0 {
		return Label{}, false
	}
	for _, lb := range found[1:] {
		if lb.Component != found[0].Component {
			return Label{}, false
		}
	}
	return found[0], true
}
