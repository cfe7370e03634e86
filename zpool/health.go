// SPDX-License-Identifier: BSD-2-Clause

package zpool

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a pool, worded for an admin.
type Problem struct {
	// Device is the name of the vdev concerned as zpool status prints it,
	// empty when the problem concerns the pool as a whole.
	Device string
	// Message is a full sentence that names the pool and the device.
	Message string
}

// String returns the message.
func (p Problem) String() string { return p.Message }

// DataLeaves returns the physical members of the pool's data vdevs, in the
// order printed: every leaf below the pool's own line, including both
// halves of a replacing-N group and an active hot spare. These are the
// devices whose disks must carry boot code. Leaves of the logs, cache,
// spares, special and dedup sections are not included. A missing member
// (a GUID name, see Vdev.Was) is included; the caller decides what to do
// with a device it cannot reach.
func (p *Pool) DataLeaves() []*Vdev {
	var leaves []*Vdev
	var walk func(v *Vdev)
	walk = func(v *Vdev) {
		if len(v.Children) == 0 && v.Kind == KindLeaf {
			leaves = append(leaves, v)
			return
		}
		for _, c := range v.Children {
			walk(c)
		}
	}
	if p.Root != nil {
		walk(p.Root)
	}
	return leaves
}

// Problems lists what keeps the pool from being healthy: a pool state other
// than ONLINE; any device of the data, special, dedup or log vdevs that is
// not ONLINE; non-zero read, write or checksum counters; data errors; a
// resilver in progress. Cache devices and hot spares are not judged: losing
// one costs neither data nor bootability. An empty list means healthy.
func (p *Pool) Problems() []Problem {
	var out []Problem
	add := func(device, format string, args ...any) {
		out = append(out, Problem{Device: device, Message: fmt.Sprintf("pool %s: ", p.Name) + fmt.Sprintf(format, args...)})
	}
	if p.State != "ONLINE" {
		add("", "the pool is %s: %s", p.State, describePoolState(p.State))
	}
	if p.Root == nil {
		add("", "zpool status could not show the pool's configuration (%s)", p.Extra["config"])
	}
	judge := func(what string, v *Vdev) {
		var walk func(v *Vdev, parent *Vdev) bool
		walk = func(v *Vdev, parent *Vdev) bool {
			reported := false
			for _, c := range v.Children {
				if walk(c, v) {
					reported = true
				}
			}
			name := describeVdev(what, v, parent)
			counted := describeCounters(v)
			switch {
			case v.State != "ONLINE" && !reported && v.Kind != KindRoot:
				msg := fmt.Sprintf("%s is %s: %s", name, v.State, describeVdevState(v))
				if counted != "" {
					msg += "; it has counted " + counted
				}
				add(v.Name, "%s", msg)
				reported = true
			case counted != "":
				add(v.Name, "%s has counted %s; check the disk (dmesg, smartctl), then reset the counters with 'zpool clear %s'", name, counted, p.Name)
				reported = true
			}
			return reported
		}
		walk(v, nil)
	}
	if p.Root != nil {
		judge("device", p.Root)
	}
	for _, v := range p.Special {
		judge("special device", v)
	}
	for _, v := range p.Dedup {
		judge("dedup device", v)
	}
	for _, v := range p.Logs {
		judge("log device", v)
	}
	switch {
	case p.Errors == "" || p.Errors == "No known data errors":
	case strings.HasPrefix(p.Errors, "Permanent errors"):
		add("", "ZFS found permanent errors in %d files or objects that no redundant copy could repair; 'zpool status -v %s' lists them", len(p.ErrorFiles), p.Name)
	default:
		add("", "ZFS reports data errors (%s); 'zpool status -v %s' lists the damaged files", p.Errors, p.Name)
	}
	for _, s := range p.Scans {
		if s.Kind == ScanResilver && (s.State == ScanInProgress || s.State == ScanPaused) {
			add("", "a resilver is running (%s); the pool is not fully redundant until it finishes", s.Line)
		}
	}
	return out
}

// describeVdev names a vdev for a message: "device ada1p3 in mirror-0",
// "missing device 316502962686821739 (last seen as /dev/ada1p3)".
func describeVdev(what string, v, parent *Vdev) string {
	var b strings.Builder
	switch {
	case v.Kind == KindRoot:
		return "the pool's top vdev " + v.Name
	case v.Kind != KindLeaf:
		b.WriteString(string(v.Kind) + " group " + v.Name)
	case v.Was != "":
		fmt.Fprintf(&b, "missing %s %s (last seen as %s)", what, v.Name, v.Was)
	default:
		fmt.Fprintf(&b, "%s %s", what, v.Name)
	}
	if parent != nil && parent.Kind != KindRoot {
		b.WriteString(" in " + parent.Name)
	}
	return b.String()
}

// describeCounters says which error counters of v are not zero, e.g.
// "1229 read and 15 write errors", or "" when all are zero.
func describeCounters(v *Vdev) string {
	var parts []string
	for _, c := range []struct {
		n    uint64
		kind string
	}{{v.Read, "read"}, {v.Write, "write"}, {v.Checksum, "checksum"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.kind))
		}
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0] + " errors"
	default:
		return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1] + " errors"
	}
}

func describePoolState(state string) string {
	switch state {
	case "DEGRADED":
		return "it still works but has lost redundancy; one more failure can lose data or leave the host unbootable"
	case "FAULTED", "UNAVAIL":
		return "it cannot be used until the missing or failed devices are back"
	case "SUSPENDED":
		return "all I/O to it is suspended after device failures; fix the devices, then run 'zpool clear'"
	default:
		return "it is not ONLINE"
	}
}

func describeVdevState(v *Vdev) string {
	var s string
	switch v.State {
	case "UNAVAIL":
		s = "ZFS cannot open it (disk missing, unplugged, renamed or unreadable)"
	case "FAULTED":
		s = "ZFS stopped using it after too many errors or because its label or data is corrupt"
	case "OFFLINE":
		s = "it was taken offline on purpose; 'zpool online' brings it back"
	case "REMOVED":
		s = "the device was removed from the system while in use"
	case "DEGRADED":
		if v.Kind == KindLeaf {
			s = "it has had too many errors and is no longer fully trusted"
		} else {
			s = "one of its members is not working, so it has lost redundancy"
		}
	case "SPLIT":
		s = "it was split off into another pool"
	default:
		s = "it is not ONLINE"
	}
	if v.Note != "" && v.Was == "" {
		s += " (zpool says: " + v.Note + ")"
	}
	return s
}
