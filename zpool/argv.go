// SPDX-License-Identifier: BSD-2-Clause

package zpool

import (
	"fmt"
	"strings"
)

// UpgradePoolArgv returns the argv of `zpool upgrade POOL`, which enables on
// POOL every supported feature its compatibility property allows (and moves
// a legacy-version pool to feature flags). It is one-way: run it only after
// CheckLoader and after the boot code on every member is new.
func UpgradePoolArgv(pool string) ([]string, error) {
	if err := checkName("pool", pool, false); err != nil {
		return nil, err
	}
	return []string{"zpool", "upgrade", pool}, nil
}

// UpgradeFilesystemsArgv returns the argv of `zfs upgrade -r DATASET`, which
// upgrades DATASET and every file system below it to the current file
// system version.
func UpgradeFilesystemsArgv(dataset string) ([]string, error) {
	if err := checkName("dataset", dataset, true); err != nil {
		return nil, err
	}
	return []string{"zfs", "upgrade", "-r", dataset}, nil
}

// checkName refuses names zfs(8) would refuse or read as an option: they
// start with a letter (the pool name) and hold only letters, digits and
// "-_.: " (module/zcommon/zfs_namecheck.c), plus "/" between the components
// of a dataset name.
func checkName(what, name string, dataset bool) error {
	bad := func(reason string) error { return fmt.Errorf("invalid %s name %q: %s", what, name, reason) }
	if name == "" {
		return bad("empty")
	}
	if c := name[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return bad("must start with a letter")
	}
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("-_.: ", c):
		case c == '/' && dataset:
		default:
			return bad(fmt.Sprintf("character %q not allowed", c))
		}
	}
	if dataset && (strings.HasSuffix(name, "/") || strings.Contains(name, "//")) {
		return bad("empty component")
	}
	return nil
}
