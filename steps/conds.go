// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"fmt"
	"path"
)

// CondKind names a condition under which a step runs one of its
// operations.
type CondKind string

// The conditions.
const (
	// CondInstallAsked: freebsd-update asked for a further install
	// after the world install (the old libraries go).
	CondInstallAsked CondKind = "install-asked"
	// CondNoFileSystem: the ESP still holds no file system.
	CondNoFileSystem CondKind = "no-file-system"
	// CondFreeBSDProgram: the file at Path is FreeBSD's EFI program of
	// kind Program.
	CondFreeBSDProgram CondKind = "freebsd-program"
	// CondNoLoaderEntry: no boot entry starts FreeBSD's loader on ESP.
	CondNoLoaderEntry CondKind = "no-loader-entry"
	// CondEntryCreated: a boot entry was just created; BootOrder is put
	// back as it was, with the new entry last.
	CondEntryCreated CondKind = "entry-created"
	// CondStalePackages: packages remain built for FreeBSD Major after
	// the upgrade.
	CondStalePackages CondKind = "stale-packages"
	// CondPoolUpgradable: the new system offers features Pool lacks, all
	// of them readable by the FreeBSD loader.
	CondPoolUpgradable CondKind = "pool-upgradable"
	// CondOldFilesystems: file systems of Pool are below the current
	// version.
	CondOldFilesystems CondKind = "old-filesystems"
	// CondHookUnpackaged: no package installed the rc.d script, so the
	// checkpoint installs it; a package's script is left as it is.
	CondHookUnpackaged CondKind = "hook-unpackaged"
	// CondTrialUnhealthy: a health check of a staged upgrade's trial
	// boot failed (--auto-revert).
	CondTrialUnhealthy CondKind = "trial-unhealthy"
)

// Cond is the condition under which the engine runs an operation; the zero
// Cond means always. Only the fields its kind names are set.
type Cond struct {
	If      CondKind `json:"if"`
	ESP     string   `json:"esp,omitempty"`
	Path    string   `json:"path,omitempty"`
	Program string   `json:"program,omitempty"`
	Pool    string   `json:"pool,omitempty"`
	Major   int      `json:"major,omitempty"`
}

// IsZero reports whether the operation runs unconditionally.
func (c Cond) IsZero() bool { return c.If == "" }

// String says the condition in English, for the plan's text.
func (c Cond) String() string {
	switch c.If {
	case "":
		return ""
	case CondInstallAsked:
		return "freebsd-update asked for it after the world install"
	case CondNoFileSystem:
		return "file -s still finds no file system on it"
	case CondFreeBSDProgram:
		return c.Path + " is FreeBSD's " + c.Program
	case CondNoLoaderEntry:
		return "no boot entry starts efi/freebsd/loader.efi on " + c.ESP
	case CondEntryCreated:
		return "after efibootmgr -c: BootOrder as it was, the new entry last"
	case CondStalePackages:
		return fmt.Sprintf("packages remain built for FreeBSD %d after the upgrade (--compat-libs)", c.Major)
	case CondPoolUpgradable:
		return "the new system offers features " + c.Pool + " lacks, all of them readable by the FreeBSD loader"
	case CondOldFilesystems:
		return "zfs upgrade lists file systems of " + c.Pool + " below the current version"
	case CondHookUnpackaged:
		return "no package installed it (pkg which -q " + rcScript + ")"
	case CondTrialUnhealthy:
		return "a health check failed (--auto-revert)"
	}
	return string(c.If)
}

// check refuses a condition this zupgrade does not know.
func (c Cond) check() error {
	switch c.If {
	case CondInstallAsked, CondNoFileSystem, CondNoLoaderEntry, CondEntryCreated, CondStalePackages, CondPoolUpgradable, CondOldFilesystems, CondHookUnpackaged, CondTrialUnhealthy:
		return nil
	case CondFreeBSDProgram:
		if !path.IsAbs(c.Path) {
			return fmt.Errorf("condition %s: path %q is not absolute", c.If, c.Path)
		}
		return nil
	}
	return fmt.Errorf("unknown condition %q", c.If)
}
