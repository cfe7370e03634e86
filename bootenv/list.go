// SPDX-License-Identifier: BSD-2-Clause

package bootenv

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/zupgrade/zupgrade/host"
)

// ListCommand is the probe zupgrade runs to list boot environments.
const ListCommand = "bectl list -H"

// ListArgs returns the argv of ListCommand.
func ListArgs() []string { return []string{"bectl", "list", "-H"} }

// BootEnv is one boot environment as bectl list shows it.
type BootEnv struct {
	Name string
	// ActiveNow (N): the running system booted from it.
	ActiveNow bool
	// ActiveOnReboot (R): the pool's bootfs; the next boot uses it.
	ActiveOnReboot bool
	// Temporary (T): activated for the next boot only (bectl activate -t).
	Temporary bool
	// Mountpoint is where it is mounted; empty when it is not ("-").
	Mountpoint string
	// Space is the space it uses, as printed (e.g. "4.20M"); empty when
	// unknown ("-").
	Space string
	// Created is its creation time to the minute, in the host's local
	// time (bectl prints no zone; the value carries the UTC location).
	// Zero when not printed.
	Created time.Time
	// Dataset, Origin and Snapshots are filled from the dataset/snapshot
	// form (bectl list -s): the BE's root dataset, the snapshot it was
	// cloned from, and its snapshots (dataset@name).
	Dataset   string
	Origin    string
	Snapshots []string
}

// Flags returns the Active column as bectl prints it: some of N, R, T in
// that order, or "-".
func (b BootEnv) Flags() string {
	var s string
	if b.ActiveNow {
		s += "N"
	}
	if b.ActiveOnReboot {
		s += "R"
	}
	if b.Temporary {
		s += "T"
	}
	if s == "" {
		return "-"
	}
	return s
}

// Find returns the boot environment called name.
func Find(bes []BootEnv, name string) (BootEnv, bool) {
	for _, b := range bes {
		if b.Name == name {
			return b, true
		}
	}
	return BootEnv{}, false
}

var (
	spaceRE   = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?[BKMGTPEZ]?$`)
	dateRE    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	clockRE   = regexp.MustCompile(`^[0-9]{2}:[0-9]{2}$`)
	createdAt = "2006-01-02 15:04"
)

// ParseList parses the output of `bectl list`: the scripted form of -H (one
// line per boot environment, fields separated by single tabs), the tabular
// form with its "BE Active Mountpoint Space Created" header (also as
// printed by beadm list, and with columns collapsed to single spaces), and
// the dataset/snapshot form of -s and -a. A header may be missing. command
// names the command in errors.
func ParseList(command string, out []byte) ([]BootEnv, error) {
	lines := strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n")
	var bes []BootEnv
	verbose := false
	headerSeen := false
	for i, line := range lines {
		perr := func(reason string) ([]BootEnv, error) {
			return nil, &host.ParseError{Command: command, Line: i + 1, Text: line, Reason: reason}
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if f := strings.Fields(line); !headerSeen && len(bes) == 0 && (f[0] == "BE" || f[0] == "BE/Dataset/Snapshot") {
			if len(f) != 5 || f[1] != "Active" || f[2] != "Mountpoint" || f[3] != "Space" || f[4] != "Created" {
				return perr("header is not \"BE Active Mountpoint Space Created\"")
			}
			headerSeen = true
			verbose = f[0] == "BE/Dataset/Snapshot"
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if !verbose && !headerSeen && len(bes) == 0 && indent == 0 && len(strings.Fields(line)) == 1 && !strings.Contains(line, "\t") {
			// A name alone on its line starts a boot environment of the
			// dataset/snapshot form whose header was dropped.
			verbose = true
		}
		if !verbose {
			b, reason := parseRow(line)
			if reason != "" {
				return perr(reason)
			}
			if reason := listedName(b.Name); reason != "" {
				return perr(reason)
			}
			bes = append(bes, b)
			continue
		}
		switch {
		case indent == 0:
			name := strings.TrimSpace(line)
			if strings.ContainsAny(name, " \t") {
				return perr("want a boot environment name alone on its line")
			}
			if reason := listedName(name); reason != "" {
				return perr(reason)
			}
			bes = append(bes, BootEnv{Name: name})
		case len(bes) == 0:
			return perr("indented line before any boot environment name")
		case indent == 2 || indent == 4:
			row, reason := parseRow(strings.TrimLeft(line, " "))
			if reason != "" {
				return perr(reason)
			}
			be := &bes[len(bes)-1]
			switch {
			case indent == 4:
				be.Origin = row.Name
			case be.Dataset == "" && !strings.Contains(row.Name, "@"):
				name, space := be.Name, be.Space
				*be = row
				be.Name, be.Dataset = name, row.Name
				if be.Space == "" {
					be.Space = space
				}
			case strings.Contains(row.Name, "@"):
				be.Snapshots = append(be.Snapshots, row.Name)
			default:
				// bectl list -a: further datasets of the boot
				// environment.
			}
		default:
			return perr(fmt.Sprintf("unexpected indentation of %d spaces", indent))
		}
	}
	if verbose {
		for _, b := range bes {
			if b.Dataset == "" {
				return nil, &host.ParseError{Command: command, Reason: fmt.Sprintf("boot environment %q has no dataset line", b.Name)}
			}
		}
	}
	return bes, nil
}

// listedName checks a name read from a listing. It is looser than
// ValidateName: boot environments made by older tools may hold characters
// bectl no longer accepts in new names, and they must still be listed.
func listedName(name string) string {
	if strings.ContainsAny(name, "/@") {
		return fmt.Sprintf("boot environment name %q holds '/' or '@'", name)
	}
	for _, c := range name {
		if c < ' ' || c == 0x7f {
			return fmt.Sprintf("boot environment name %q holds a control character", name)
		}
	}
	return ""
}

// parseRow parses one row: name, active flags, mountpoint, space and
// creation time, separated by tabs (-H) or runs of spaces. It returns a
// reason when the row is malformed.
func parseRow(line string) (BootEnv, string) {
	var f []string
	if strings.Contains(line, "\t") {
		f = strings.Split(strings.TrimRight(line, " "), "\t")
		// bectl -H ends the space column with a tab even when there is
		// no creation time.
		if len(f) == 4 {
			f = append(f, "")
		}
		if len(f) != 5 {
			return BootEnv{}, fmt.Sprintf("%d tab-separated fields, want 5: name, active, mountpoint, space, created", len(f))
		}
	} else {
		w := strings.Fields(line)
		// The creation time takes two fields; the mountpoint may hold
		// spaces, so take the name and flags from the left and the rest
		// from the right.
		switch {
		case len(w) >= 6 && dateRE.MatchString(w[len(w)-2]) && clockRE.MatchString(w[len(w)-1]):
			f = []string{w[0], w[1], strings.Join(w[2:len(w)-3], " "), w[len(w)-3], w[len(w)-2] + " " + w[len(w)-1]}
		case len(w) >= 4:
			f = []string{w[0], w[1], strings.Join(w[2:len(w)-1], " "), w[len(w)-1], ""}
		default:
			return BootEnv{}, fmt.Sprintf("%d fields, want name, active, mountpoint, space and created", len(w))
		}
	}
	b := BootEnv{Name: f[0]}
	if b.Name == "" {
		return BootEnv{}, "empty name"
	}
	if reason := b.setFlags(f[1]); reason != "" {
		return BootEnv{}, reason
	}
	switch f[2] {
	case "":
		return BootEnv{}, "empty mountpoint column"
	case "-":
	default:
		if !strings.HasPrefix(f[2], "/") {
			return BootEnv{}, fmt.Sprintf("mountpoint %q is not an absolute path", f[2])
		}
		b.Mountpoint = f[2]
	}
	switch {
	case f[3] == "-":
	case spaceRE.MatchString(f[3]):
		b.Space = f[3]
	default:
		return BootEnv{}, fmt.Sprintf("space %q is not a size like 4.20M", f[3])
	}
	if f[4] != "" {
		t, err := time.Parse(createdAt, f[4])
		if err != nil {
			return BootEnv{}, fmt.Sprintf("creation time %q is not YYYY-MM-DD HH:MM", f[4])
		}
		b.Created = t
	}
	return b, ""
}

// setFlags reads the Active column: "-" or N, R and T, each at most once.
func (b *BootEnv) setFlags(s string) string {
	if s == "-" {
		return ""
	}
	if s == "" {
		return "empty active column"
	}
	for _, c := range s {
		var flag *bool
		switch c {
		case 'N':
			flag = &b.ActiveNow
		case 'R':
			flag = &b.ActiveOnReboot
		case 'T':
			flag = &b.Temporary
		default:
			return fmt.Sprintf("active column %q holds %q; want N, R, T or -", s, c)
		}
		if *flag {
			return fmt.Sprintf("active column %q repeats %q", s, c)
		}
		*flag = true
	}
	return ""
}
