// SPDX-License-Identifier: BSD-2-Clause

package bootenv

import (
	"fmt"
	"strings"
	"time"
)

// MaxDatasetNameLen is the longest dataset or snapshot name ZFS accepts
// (ZFS_MAX_DATASET_NAME_LEN is 256 bytes including the terminating NUL).
const MaxDatasetNameLen = 255

// NameError explains why a boot environment, dataset or snapshot name is
// refused.
type NameError struct {
	Name   string
	Reason string
}

func (e *NameError) Error() string { return fmt.Sprintf("invalid name %q: %s", e.Name, e.Reason) }

// ValidateName checks a new boot environment name against what bectl
// accepts (libbe's be_validate_name: letters, digits, '-', '_' and '.') and
// against what zupgrade can pass safely in an argv: not empty, not "." or
// "..", not starting with '-' (it would read as an option), and short
// enough for a dataset name.
func ValidateName(name string) error {
	fail := func(reason string) error { return &NameError{Name: name, Reason: reason} }
	switch {
	case name == "":
		return fail("empty")
	case name == "." || name == "..":
		return fail("ZFS refuses . and .. as names")
	case strings.HasPrefix(name, "-"):
		return fail("a name starting with '-' would be read as an option")
	case len(name) > MaxDatasetNameLen:
		return fail(fmt.Sprintf("longer than %d bytes", MaxDatasetNameLen))
	}
	for _, c := range name {
		if !nameChar(c) {
			return fail(fmt.Sprintf("%q is not allowed; use letters, digits, '-', '_' and '.'", c))
		}
	}
	return nil
}

// ValidateFullName checks name as ValidateName does, and that the dataset
// it becomes under beRoot (e.g. zroot/ROOT) is not too long for ZFS.
func ValidateFullName(beRoot, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if full := beRoot + "/" + name; len(full) > MaxDatasetNameLen {
		return &NameError{Name: name, Reason: fmt.Sprintf("the dataset %s would be longer than %d bytes", full, MaxDatasetNameLen)}
	}
	return nil
}

func nameChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

// backupPrefix starts every backup name zupgrade makes, so that its boot
// environments and snapshots can be told from the admin's.
const backupPrefix = "zupgrade-"

// backupTimeFormat is the UTC time stamp in backup names.
const backupTimeFormat = "20060102T150405"

// BackupName returns the name of the backup zupgrade makes before changing
// a host: zupgrade-CURRENT-to-TARGET-TIME, e.g.
// zupgrade-14.1-RELEASE-p6-to-14.2-RELEASE-20261126T130509, with the time
// in UTC. For a patch run, whose resulting patch level is not known in
// advance, pass an empty target: zupgrade-CURRENT-patch-TIME. current and
// target are release names as freebsd-version prints them.
func BackupName(current, target string, at time.Time) (string, error) {
	if current == "" {
		return "", fmt.Errorf("backup name: the current release is unknown")
	}
	stamp := at.UTC().Format(backupTimeFormat)
	name := backupPrefix + current + "-patch-" + stamp
	if target != "" {
		name = backupPrefix + current + "-to-" + target + "-" + stamp
	}
	if err := ValidateName(name); err != nil {
		return "", err
	}
	return name, nil
}
