// SPDX-License-Identifier: BSD-2-Clause

package zpool

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// UpgradeListCommand is the command line whose output ParseUpgradeList reads:
// `zpool upgrade` without arguments only lists, it changes nothing.
const UpgradeListCommand = "zpool upgrade"

// FilesystemUpgradeListCommand is the command line whose output
// ParseFilesystemUpgradeList reads; without arguments it only lists.
const FilesystemUpgradeListCommand = "zfs upgrade"

// UpgradeList is what `zpool upgrade` (no arguments) reports.
type UpgradeList struct {
	// FeatureFlags is true when the system supports pool feature flags
	// ("This system supports ZFS pool feature flags.").
	FeatureFlags bool
	// SystemVersion is the pool version a system without feature flags runs
	// ("This system is currently running ZFS pool version 28."), else 0.
	SystemVersion int
	// Legacy maps each pool still at a legacy version number to that
	// version: zpool upgrade would move it to feature flags (or, on a system
	// without them, to SystemVersion).
	Legacy map[string]int
	// NotEnabled maps each feature-flags pool that lacks supported features
	// to those features, in the order printed.
	NotEnabled map[string][]PendingFeature
}

// PendingFeature is a supported feature not yet enabled on a pool.
type PendingFeature struct {
	Name string
	// Explicit is true for features marked "(*)": zpool upgrade does not
	// enable them; only `zpool set feature@NAME=enabled` does.
	Explicit bool
}

// WouldEnable returns the features `zpool upgrade POOL` would enable on a
// feature-flags pool, by the listing: those not marked "(*)". The pool's
// compatibility property can narrow this further; the listing does not
// apply it (zpool_main.c upgrade_list_disabled_cb), so neither does this.
// For a legacy-version pool the listing names no features: upgrading it
// enables every feature the system supports.
func (u *UpgradeList) WouldEnable(pool string) []string {
	var out []string
	for _, f := range u.NotEnabled[pool] {
		if !f.Explicit {
			out = append(out, f.Name)
		}
	}
	return out
}

var (
	featureFlagsLine  = "This system supports ZFS pool feature flags."
	poolVersionLine   = regexp.MustCompile(`^This system is currently running ZFS pool version ([0-9]+)\.$`)
	fsVersionLine     = regexp.MustCompile(`^This system is currently running ZFS filesystem version ([0-9]+)\.$`)
	versionRow        = regexp.MustCompile(`^\s*([0-9]+)\s+(\S.*)$`)
	featureName       = regexp.MustCompile(`^[a-z0-9_]+$`)
	dashes            = regexp.MustCompile(`^-+(\s+-+)*$`)
	upgradeTableHeads = map[string]bool{"VER POOL": true, "POOL FEATURE": true}
)

// ParseUpgradeList parses the output of `zpool upgrade` without arguments:
// the pools at legacy version numbers and, per feature-flags pool, the
// supported features it does not have enabled. "Every feature flags pool
// has all supported and requested features enabled." yields no features.
func ParseUpgradeList(out string) (UpgradeList, error) {
	u := UpgradeList{Legacy: map[string]int{}, NotEnabled: map[string][]PendingFeature{}}
	lines := splitLines(out)
	first := true
	table := "" // "VER POOL" or "POOL FEATURE" while inside that table
	pool := ""  // current pool of the feature table
	for i := 0; i < len(lines); i++ {
		n, line := i+1, lines[i]
		fail := func(reason string) error {
			return &host.ParseError{Command: UpgradeListCommand, Line: n, Text: line, Reason: reason}
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			table = ""
			continue
		}
		if first {
			first = false
			if trimmed == featureFlagsLine {
				u.FeatureFlags = true
				continue
			}
			m := poolVersionLine.FindStringSubmatch(trimmed)
			if m == nil {
				return u, fail(`expected "This system supports ZFS pool feature flags." or "This system is currently running ZFS pool version N."`)
			}
			v, err := strconv.Atoi(m[1])
			if err != nil || v < 1 {
				return u, fail("pool version out of range")
			}
			u.SystemVersion = v
			continue
		}
		switch table {
		case "VER POOL":
			if m := versionRow.FindStringSubmatch(line); m != nil {
				v, err := strconv.Atoi(m[1])
				if err != nil || v < 1 {
					return u, fail("pool version out of range")
				}
				name := strings.TrimSpace(m[2])
				if _, dup := u.Legacy[name]; dup {
					return u, fail("pool listed twice")
				}
				u.Legacy[name] = v
				continue
			}
			table = "" // prose follows the table without a blank line
		case "POOL FEATURE":
			if isIndented(line) {
				if pool == "" {
					return u, fail("feature listed before any pool")
				}
				name, explicit := strings.CutSuffix(trimmed, "(*)")
				if !featureName.MatchString(name) {
					return u, fail("not a feature name")
				}
				u.NotEnabled[pool] = append(u.NotEnabled[pool], PendingFeature{Name: name, Explicit: explicit})
				continue
			}
			if _, dup := u.NotEnabled[trimmed]; dup {
				return u, fail("pool listed twice")
			}
			pool = trimmed
			u.NotEnabled[pool] = nil
			continue
		}
		head := strings.Join(strings.Fields(trimmed), " ")
		if upgradeTableHeads[head] {
			if i+1 >= len(lines) || !dashes.MatchString(strings.TrimSpace(lines[i+1])) {
				return u, fail("table header without its line of dashes")
			}
			i++
			table, pool = head, ""
			continue
		}
		if isIndented(line) {
			return u, fail("indented line outside the VER POOL and POOL FEATURE tables")
		}
		// Explanatory prose ("The following pools are formatted with legacy
		// version numbers ...", "Every feature flags pool has ...").
	}
	if first {
		return u, &host.ParseError{Command: UpgradeListCommand, Reason: "empty output"}
	}
	for p, fs := range u.NotEnabled {
		if len(fs) == 0 {
			return u, &host.ParseError{Command: UpgradeListCommand, Reason: fmt.Sprintf("pool %s is listed without features", p)}
		}
	}
	return u, nil
}

// FilesystemUpgradeList is what `zfs upgrade` (no arguments) reports.
type FilesystemUpgradeList struct {
	// Current is the file system version the system runs (5 on every
	// FreeBSD since 9.0).
	Current int
	// OutOfDate lists the file systems below Current: `zfs upgrade` can
	// upgrade them.
	OutOfDate []FilesystemVersion
	// Newer lists the file systems formatted by newer software that this
	// system cannot access.
	Newer []FilesystemVersion
}

// FilesystemVersion is one row of a `zfs upgrade` listing.
type FilesystemVersion struct {
	Name    string
	Version int
}

// ParseFilesystemUpgradeList parses the output of `zfs upgrade` without
// arguments (cmd/zfs/zfs_main.c zfs_do_upgrade): the current version, then
// a VER FILESYSTEM table after "The following filesystems are out of date"
// and one after "... formatted using a newer software version", or "All
// filesystems are formatted with the current version."
func ParseFilesystemUpgradeList(out string) (FilesystemUpgradeList, error) {
	var u FilesystemUpgradeList
	lines := splitLines(out)
	first := true
	intro := ""                    // "old" or "newer": which table the last prose announced
	var table *[]FilesystemVersion // the table being read
	seen := map[string]bool{}
	for i := 0; i < len(lines); i++ {
		n, line := i+1, lines[i]
		fail := func(reason string) error {
			return &host.ParseError{Command: FilesystemUpgradeListCommand, Line: n, Text: line, Reason: reason}
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			table = nil
			continue
		}
		if first {
			first = false
			m := fsVersionLine.FindStringSubmatch(trimmed)
			if m == nil {
				return u, fail(`expected "This system is currently running ZFS filesystem version N."`)
			}
			v, err := strconv.Atoi(m[1])
			if err != nil || v < 1 {
				return u, fail("version out of range")
			}
			u.Current = v
			continue
		}
		if table != nil {
			if m := versionRow.FindStringSubmatch(line); m != nil {
				v, err := strconv.Atoi(m[1])
				if err != nil || v < 1 {
					return u, fail("version out of range")
				}
				name := strings.TrimSpace(m[2])
				if seen[name] {
					return u, fail("file system listed twice")
				}
				seen[name] = true
				*table = append(*table, FilesystemVersion{Name: name, Version: v})
				continue
			}
			table = nil // the second announcement follows without a blank line
		}
		if strings.Join(strings.Fields(trimmed), " ") == "VER FILESYSTEM" {
			if i+1 >= len(lines) || !dashes.MatchString(strings.TrimSpace(lines[i+1])) {
				return u, fail("table header without its line of dashes")
			}
			switch intro {
			case "old":
				table = &u.OutOfDate
			case "newer":
				table = &u.Newer
			default:
				return u, fail("VER FILESYSTEM table without the sentence that says what it lists")
			}
			intro = ""
			i++
			continue
		}
		if isIndented(line) {
			return u, fail("indented line outside a VER FILESYSTEM table")
		}
		switch {
		case strings.HasPrefix(trimmed, "The following filesystems are out of date"):
			intro = "old"
		case strings.HasPrefix(trimmed, "The following filesystems are formatted using a newer software version"):
			intro = "newer"
		}
	}
	if first {
		return u, &host.ParseError{Command: FilesystemUpgradeListCommand, Reason: "empty output"}
	}
	return u, nil
}
