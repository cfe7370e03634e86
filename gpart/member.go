// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"fmt"
	"slices"
	"strings"
)

// Member is a ZFS pool member tied to the partition and the disk that hold it.
type Member struct {
	// Name is the member as zpool status printed it, e.g. "gpt/zfs0.eli".
	Name string
	// Partition is the partition holding the member.
	Partition Partition
	// Geom is the partition table holding Partition ("ada1", or "ada0s1"
	// for a BSD label nested in an MBR slice).
	Geom string
	// DiskGeom is the outermost partition table on the disk: the one boot
	// code goes to. It equals Geom except for nested tables.
	DiskGeom string
	// Disks are the physical disks under DiskGeom (Layout.PhysicalDisks).
	Disks []string
	// Steps say how the name led to the partition, one step per line,
	// e.g. `"gpt/zfs0" is a label of "ada1p3" (glabel status)`.
	Steps []string
}

// MemberError reports a pool member that could not be tied to a partition.
type MemberError struct {
	// Member is the name as given.
	Member string
	// Reason says why.
	Reason string
}

func (e *MemberError) Error() string {
	return fmt.Sprintf("cannot find the partition of pool member %q: %s", e.Member, e.Reason)
}

// transformSuffixes are GEOM classes whose provider is named after the one
// it is built on plus a suffix (g_eli, g_nop). The rule is the class's
// naming, not a guess.
var transformSuffixes = []struct{ suffix, what string }{
	{".eli", "GELI provider"},
	{".nop", "gnop provider"},
}

// ResolveMember finds the partition and disk holding a pool member named as
// `zpool status` prints it: a provider ("ada0p3", "nda0p4", "diskid/DISK-Xp3",
// "/dev/ada0p3"), a label ("gpt/zfs0", "gptid/<uuid>"), either with ".eli"
// under GELI, or a missing member's GUID followed by "was /dev/<path>". Labels
// are followed through glabel status, and only when that
// does not know a name through the GPT labels and raw UUIDs of the partition
// tables; names are never taken apart to guess a disk. A member that cannot
// be tied to exactly one partition returns a *MemberError naming it.
func (l *Layout) ResolveMember(member string) (Member, error) {
	fail := func(format string, args ...any) (Member, error) {
		return Member{}, &MemberError{Member: member, Reason: fmt.Sprintf(format, args...)}
	}
	name := strings.TrimSpace(member)
	if guid, was, ok := strings.Cut(name, " was "); ok {
		if !isDecimal(strings.TrimSpace(guid)) {
			return fail(`expected "<guid> was <path>"`)
		}
		name = strings.TrimSpace(was)
	} else if isDecimal(name) {
		return fail("zpool status shows only its GUID, without a former path")
	}
	name = strings.TrimPrefix(name, "/dev/")
	if name == "" {
		return fail("empty name")
	}

	m := Member{Name: member}
	seen := map[string]bool{}
	for !seen[name] {
		seen[name] = true
		if p, g, ok := l.Partition(name); ok {
			return l.member(m, p, g)
		}
		if comps := l.labelComponents(name); len(comps) > 0 {
			if len(comps) > 1 {
				return fail("label %q names several providers: %s", name, quotedList(comps))
			}
			m.Steps = append(m.Steps, fmt.Sprintf("%q is a label of %q", name, comps[0]))
			name = comps[0]
			continue
		}
		if next, what, ok := stripTransformSuffix(name); ok {
			m.Steps = append(m.Steps, fmt.Sprintf("%q is the %s on %q", name, what, next))
			name = next
			continue
		}
		if label, ok := strings.CutPrefix(name, "gpt/"); ok {
			return l.memberByPartition(m, name, "GPT label", func(p Partition, g Geom) bool {
				return g.Scheme == "GPT" && p.Label == label
			})
		}
		if uuid, ok := strings.CutPrefix(name, "gptid/"); ok {
			return l.memberByPartition(m, name, "raw UUID", func(p Partition, g Geom) bool {
				return g.Scheme == "GPT" && p.RawUUID != "" && strings.EqualFold(p.RawUUID, uuid)
			})
		}
		if l.isWholeDisk(name) {
			return fail("%q is a whole disk, not a partition: it has no boot partitions", name)
		}
		return fail("no partition, label or GEOM provider named %q in the partition tables and labels read", name)
	}
	return fail("labels and providers loop at %q", name)
}

// memberByPartition resolves a label name that glabel status did not list
// through the partition tables, requiring exactly one match.
func (l *Layout) memberByPartition(m Member, name, what string, match func(Partition, Geom) bool) (Member, error) {
	var ps []Partition
	var gs []Geom
	for _, g := range l.Geoms {
		for _, p := range g.Partitions {
			if match(p, g) {
				ps = append(ps, p)
				gs = append(gs, g)
			}
		}
	}
	switch len(ps) {
	case 1:
		m.Steps = append(m.Steps, fmt.Sprintf("%q is the %s of %q", name, what, ps[0].Name))
		return l.member(m, ps[0], gs[0])
	case 0:
		return Member{}, &MemberError{Member: m.Name, Reason: fmt.Sprintf("no partition has the %s of %q", what, name)}
	default:
		var names []string
		for _, p := range ps {
			names = append(names, p.Name)
		}
		return Member{}, &MemberError{Member: m.Name,
			Reason: fmt.Sprintf("the %s of %q is on several partitions (%s) and glabel status does not say which one the kernel uses", what, name, quotedList(names))}
	}
}

// member completes a resolution that reached partition p of table g.
func (l *Layout) member(m Member, p Partition, g Geom) (Member, error) {
	m.Partition = p
	m.Geom = g.Name
	outer, _ := l.DiskGeom(g.Name)
	m.DiskGeom = outer.Name
	m.Disks = l.PhysicalDisks(outer.Consumer.Name)
	return m, nil
}

// labelComponents returns the distinct components carrying label name.
func (l *Layout) labelComponents(name string) []string {
	var out []string
	for _, lb := range l.Labels {
		if lb.Name == name && !slices.Contains(out, lb.Component) {
			out = append(out, lb.Component)
		}
	}
	return out
}

// isWholeDisk reports whether name is a disk or a provider holding a
// partition table, rather than a partition.
func (l *Layout) isWholeDisk(name string) bool {
	for _, g := range l.Geoms {
		if g.Name == name || g.Consumer.Name == name {
			return true
		}
	}
	return false
}

// stripTransformSuffix removes a GELI or gnop suffix.
func stripTransformSuffix(name string) (string, string, bool) {
	for _, t := range transformSuffixes {
		if base, ok := strings.CutSuffix(name, t.suffix); ok && base != "" {
			return base, t.what, true
		}
	}
	return "", "", false
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func quotedList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
