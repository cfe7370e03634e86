// SPDX-License-Identifier: BSD-2-Clause

package bootenv

import (
	"fmt"
	"strings"
)

// Program is the boot environment tool, in base since FreeBSD 12.0.
const Program = "bectl"

// CheckArgs returns `bectl check`, whose exit status says whether boot
// environments are supported (see ParseCheck).
func CheckArgs() []string { return []string{Program, "check"} }

// Support is what bectl check found.
type Support int

// The answers of bectl check.
const (
	// Supported: exit 0; the root is a boot environment bectl manages.
	Supported Support = iota + 1
	// Unsupported: bectl exists but cannot manage this system (exit 255:
	// libbe could not initialise, e.g. root not on ZFS or not under a
	// boot environment root).
	Unsupported
	// NoBectl: the command does not exist (exit 127), as on FreeBSD 8.x
	// to 11.x; use SnapshotArgs instead.
	NoBectl
)

func (s Support) String() string {
	switch s {
	case Supported:
		return "supported"
	case Unsupported:
		return "unsupported"
	case NoBectl:
		return "no bectl"
	}
	return fmt.Sprintf("Support(%d)", int(s))
}

// ExitNotFound is the exit status recorded for a program that is not
// installed.
const ExitNotFound = 127

// ParseCheck interprets the exit status of bectl check.
func ParseCheck(exitCode int) (Support, error) {
	switch exitCode {
	case 0:
		return Supported, nil
	case 255:
		return Unsupported, nil
	case ExitNotFound:
		return NoBectl, nil
	}
	return 0, fmt.Errorf("bectl check: unexpected exit status %d", exitCode)
}

// CreateArgs returns `bectl create -r NAME`: a recursive boot environment
// cloned from the running one, so that deep boot environments (datasets
// below the BE's root dataset) are included.
func CreateArgs(name string) ([]string, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	return []string{Program, "create", "-r", name}, nil
}

// ActivateArgs returns `bectl activate NAME`, or with temporary `bectl
// activate -t NAME`: boot NAME on the next boot only, and fall back to the
// current one after that (a trial boot).
func ActivateArgs(name string, temporary bool) ([]string, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if temporary {
		return []string{Program, "activate", "-t", name}, nil
	}
	return []string{Program, "activate", name}, nil
}

// RemoveTemporaryArgs returns `bectl activate -T`: the one-time
// activation that `activate -t` set is removed, and the next boot is the
// pool's bootfs again (sbin/bectl/bectl.c bectl_cmd_activate).
func RemoveTemporaryArgs() []string { return []string{Program, "activate", "-T"} }

// DestroyArgs returns `bectl destroy NAME`: the boot environment goes, and
// with it its origin snapshot when bectl made that snapshot itself
// (BE_DESTROY_AUTOORIGIN, sbin/bectl/bectl.c bectl_cmd_destroy).
func DestroyArgs(name string) ([]string, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	return []string{Program, "destroy", name}, nil
}

// ValidateDataset checks a ZFS file system name such as zroot/ROOT/default:
// components separated by '/', each made of letters, digits and - _ . : or
// space, the first (the pool) starting with a letter.
func ValidateDataset(dataset string) error {
	fail := func(reason string) error { return &NameError{Name: dataset, Reason: reason} }
	if dataset == "" {
		return fail("empty")
	}
	if len(dataset) > MaxDatasetNameLen {
		return fail(fmt.Sprintf("longer than %d bytes", MaxDatasetNameLen))
	}
	for i, comp := range strings.Split(dataset, "/") {
		switch {
		case comp == "":
			return fail("empty component")
		case comp == "." || comp == "..":
			return fail("ZFS refuses . and .. as components")
		case i == 0 && !(comp[0] >= 'a' && comp[0] <= 'z' || comp[0] >= 'A' && comp[0] <= 'Z'):
			return fail("a pool name starts with a letter")
		}
		for _, c := range comp {
			if !nameChar(c) && c != ':' && c != ' ' {
				return fail(fmt.Sprintf("%q is not allowed in a dataset name", c))
			}
		}
	}
	return nil
}

// SnapshotArgs returns `zfs snapshot -r DATASET@NAME`: the backup made
// instead of a boot environment where bectl does not exist.
func SnapshotArgs(dataset, name string) ([]string, error) {
	if err := ValidateDataset(dataset); err != nil {
		return nil, err
	}
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	snap := dataset + "@" + name
	if len(snap) > MaxDatasetNameLen {
		return nil, &NameError{Name: snap, Reason: fmt.Sprintf("longer than %d bytes", MaxDatasetNameLen)}
	}
	return []string{"zfs", "snapshot", "-r", snap}, nil
}

// SnapshotRollbackInstructions returns what an admin does to return a host
// without bectl to the recursive snapshot DATASET@NAME, as text to print.
// The steps roll back every file system below the root dataset (zfs
// rollback is not recursive), from a system that is not running from it.
func SnapshotRollbackInstructions(dataset, name string) (string, error) {
	if _, err := SnapshotArgs(dataset, name); err != nil {
		return "", err
	}
	pool, _, _ := strings.Cut(dataset, "/")
	snap := dataset + "@" + name
	return fmt.Sprintf(`Before upgrading, zupgrade took the recursive snapshot %[1]s
(this host has no bectl, so no boot environment could be made).

To return the host to it:

 1. Boot a system that does not run from %[2]s, such as the
    FreeBSD installation media of the old release ("Live CD" or
    "Shell"). Import the pool without mounting anything:
        zpool import -f -N -R /mnt %[3]s

 2. List the file systems the snapshot covers:
        zfs list -H -o name -t snapshot -r %[2]s | awk -F@ '$2 == "%[4]s"'

 3. Roll back each of them, %[1]s first; -r destroys the
    snapshots taken after it:
        zfs rollback -r %[1]s
        zfs rollback -r <file system>@%[4]s     (for every other line of step 2)

 4. Export the pool and reboot:
        zpool export %[3]s
        reboot

Everything written to these file systems since the snapshot is lost, and
zfs rollback cannot be undone. It only helps before "zpool upgrade" enabled
pool features the old system cannot read; zupgrade runs that upgrade last.
`, snap, dataset, pool, name), nil
}
