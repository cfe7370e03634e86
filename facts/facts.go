// SPDX-License-Identifier: BSD-2-Clause

// Package facts gathers what a FreeBSD host is, for planning its upgrade.
//
// It runs the fixed probe set of docs/commands.md through a host.Runner and
// turns the outputs into Facts with the parsers of the domain packages
// (gpart, zpool, bootenv, freebsdupdate, pkgng). It never runs a command that
// changes the host: Gather only issues read-only probes, and callers pass a
// host.ReadOnlyRunner to make that a guarantee. The JSON form of Facts is part
// of zupgrade's interface (docs/inspect-json.md); fields are added, never
// renamed or removed, within one Version.
package facts

import (
	"fmt"
	"strings"
)

// Version is the version of the Facts JSON document.
const Version = 1

// Facts is what zupgrade knows about a host.
type Facts struct {
	Version int `json:"version"`
	// Root reports whether zupgrade runs as root (uid 0).
	Root bool `json:"root"`
	// OS is the kernel name from uname -s ("FreeBSD").
	OS string `json:"os"`
	// Machine is uname -m (amd64, arm64, i386, riscv).
	Machine string `json:"machine"`
	// KernelIdent is the running kernel's configuration, uname -i
	// ("GENERIC"); freebsd-update upgrades only the ones FreeBSD
	// distributes.
	KernelIdent string `json:"kernel_ident"`
	// Release holds freebsd-version -kru; empty fields where the host has no
	// freebsd-version (before 10.0) are filled from uname -r.
	Release Release `json:"release"`
	// OSRelDate is kern.osreldate (__FreeBSD_version of the running kernel).
	OSRelDate int `json:"osreldate,omitempty"`
	// BootMethod is machdep.bootmethod: "BIOS", "UEFI", or "" when the
	// kernel does not report it (then zupgrade treats both as possible).
	BootMethod string `json:"boot_method"`
	// Jailed reports security.jail.jailed.
	Jailed bool `json:"jailed"`
	// RootMount is kenv vfs.root.mountfrom, e.g. "zfs:zroot/ROOT/default".
	RootMount string `json:"root_mount"`
	// RootDataset is the dataset mounted on / (from RootMount or mount -p).
	RootDataset string `json:"root_dataset,omitempty"`
	// BootPool is the pool holding the root dataset.
	BootPool string    `json:"boot_pool,omitempty"`
	Pools    []Pool    `json:"pools"`
	Disks    []Disk    `json:"disks"`
	BootEnvs BootEnvs  `json:"boot_environments"`
	Update   Update    `json:"freebsd_update"`
	Pkg      Pkg       `json:"pkg"`
	EFI      *EFI      `json:"efi,omitempty"`
	Loaders  BootFiles `json:"boot_files"`
	Warnings []string  `json:"warnings,omitempty"`

	// OtherDisks are the disks outside the boot pool that carry an ESP
	// (every GPT disk gpart list shows): the firmware may start a loader
	// there that reads the pool.
	OtherDisks []Disk `json:"other_disks,omitempty"`
	// FstabESPs are the msdosfs lines of /etc/fstab (bsdinstall's
	// /boot/efi), each with the disk whose ESP it names.
	FstabESPs []FstabESP `json:"fstab_esps,omitempty"`
}

// FstabESP is an msdosfs line of /etc/fstab.
type FstabESP struct {
	// Line is its number in /etc/fstab, Text the line as written.
	Line       int    `json:"line"`
	Text       string `json:"text"`
	Device     string `json:"device"`
	MountPoint string `json:"mount_point"`
	// Failok and Noauto report those options: with neither, rc stops in
	// single-user mode when the device is missing.
	Failok bool `json:"failok"`
	Noauto bool `json:"noauto"`
	// Disk and Partition are what Device names; empty when it names no
	// partition zupgrade can find.
	Disk      string `json:"disk,omitempty"`
	Partition string `json:"partition,omitempty"`
}

// Release is the three versions freebsd-version -kru reports.
type Release struct {
	// Kernel is the installed kernel (-k).
	Kernel string `json:"kernel"`
	// Running is the running kernel (-r).
	Running string `json:"running"`
	// Userland is the installed world (-u).
	Userland string `json:"userland"`
}

// Pool is one imported ZFS pool.
type Pool struct {
	Name   string `json:"name"`
	State  string `json:"state"`
	Health string `json:"health"`
	// Scan describes the last or running scrub/resilver.
	Scan Scan `json:"scan"`
	// BootFS is the bootfs property ("" when unset).
	BootFS string `json:"bootfs,omitempty"`
	// Compatibility is the compatibility property split on commas ("off"
	// when unset).
	Compatibility []string `json:"compatibility"`
	// LegacyVersion is the pool version for pools without feature flags.
	LegacyVersion int    `json:"legacy_version,omitempty"`
	Size          uint64 `json:"size_bytes"`
	Free          uint64 `json:"free_bytes"`
	// Features maps feature name to "disabled", "enabled" or "active".
	Features map[string]string `json:"features,omitempty"`
	// Upgradable lists the features `zpool upgrade` would enable.
	Upgradable []string `json:"upgradable_features,omitempty"`
	// LoaderUnreadable lists features `zpool upgrade` would enable that
	// the FreeBSD loader could not read once active (or that zupgrade does
	// not know); ActiveUnreadable lists such features active already.
	LoaderUnreadable []string `json:"loader_unreadable_features,omitempty"`
	ActiveUnreadable []string `json:"active_unreadable_features,omitempty"`
	// OldFilesystems lists the pool's file systems below the current
	// version (zfs upgrade).
	OldFilesystems []string `json:"old_filesystems,omitempty"`
	// Members are the physical devices of the data vdevs.
	Members []Member `json:"members"`
	// Problems are health findings in words ("gpt/zfs1 is UNAVAIL").
	Problems []string `json:"problems,omitempty"`
}

// Scan is a pool's scrub/resilver state.
type Scan struct {
	// Kind is "none", "scrub" or "resilver".
	Kind       string `json:"kind"`
	InProgress bool   `json:"in_progress"`
	Text       string `json:"text,omitempty"`
}

// Member is a pool member and where it lives.
type Member struct {
	// Name is the member as zpool status prints it.
	Name  string `json:"name"`
	State string `json:"state"`
	// Was is the last known path of a missing member ("/dev/ada1p3").
	Was string `json:"was,omitempty"`
	// Partition and Disk are the GEOM provider and the disk holding it;
	// empty when the member could not be resolved (then Error says why).
	Partition string `json:"partition,omitempty"`
	Disk      string `json:"disk,omitempty"`
	Error     string `json:"error,omitempty"`
	// Replacing: the member is one side of a zpool replace (in a
	// replacing-N group): the device being replaced or its replacement.
	Replacing bool `json:"replacing,omitempty"`
	// Resilvering: zpool status notes that it is being resilvered.
	Resilvering bool `json:"resilvering,omitempty"`
}

// Disk is a disk holding a boot-pool member, with its boot partitions.
type Disk struct {
	Name   string `json:"name"`
	Scheme string `json:"scheme"`
	// BootPartitions are the freebsd-boot partitions (BIOS boot code).
	BootPartitions []Partition `json:"boot_partitions"`
	// ESPs are the EFI system partitions.
	ESPs []ESP `json:"esps"`
}

// Partition is a GPT partition.
type Partition struct {
	Name  string `json:"name"`
	Index int    `json:"index"`
	Size  uint64 `json:"size_bytes"`
	Label string `json:"label,omitempty"`
	// RawUUID is the GPT partition GUID (what UEFI device paths name).
	RawUUID string `json:"rawuuid,omitempty"`
}

// ESP is an EFI system partition and what it carries.
type ESP struct {
	Partition
	// Format is "fat", "empty" (never formatted) or "unknown" (what file -s
	// printed is kept in FormatText).
	Format     string `json:"format"`
	FormatText string `json:"format_text,omitempty"`
	// MountPoint is where it is mounted now, if anywhere.
	MountPoint string `json:"mount_point,omitempty"`
	// Loader and Fallback compare efi/freebsd/loader.efi and
	// efi/boot/boot<arch>.efi with /boot/loader.efi: "current", "differs",
	// "missing", or "unknown" when the ESP is not mounted.
	Loader   string `json:"loader"`
	Fallback string `json:"fallback"`
}

// BootEnvs is the bectl view of the host.
type BootEnvs struct {
	// Tool is "bectl" when present and working, "" otherwise.
	Tool      string    `json:"tool"`
	Supported bool      `json:"supported"`
	List      []BootEnv `json:"list,omitempty"`
}

// BootEnv is one boot environment.
type BootEnv struct {
	Name     string `json:"name"`
	Active   bool   `json:"active"`
	OnReboot bool   `json:"on_reboot"`
	// Temporary: activated for the next boot only (T, bectl activate -t).
	Temporary bool   `json:"temporary,omitempty"`
	Created   string `json:"created,omitempty"`
}

// Update is freebsd-update's pending state.
type Update struct {
	// Pending reports `freebsd-update updatesready` exit 0.
	Pending bool `json:"pending"`
	// Markers are the phase markers in the pending install directory
	// (kernelfirst, kerneldone, worlddone).
	Markers []string `json:"markers,omitempty"`
	// Phase names what the next install does: "", "kernel", "world",
	// "old-libraries".
	Phase string `json:"phase,omitempty"`
	// Fetched is the release and patch level of the fetched metadata
	// (from the tag file), e.g. "14.2-RELEASE-p0".
	Fetched string `json:"fetched,omitempty"`
	// MetadataPattern is "current", "old" (the 8.x integrity-check bug) or
	// "unknown".
	MetadataPattern string `json:"metadata_pattern"`
	// LibsysOrdering reports the EN-25:18 fix (needed before 14 -> 15).
	LibsysOrdering bool `json:"libsys_ordering"`
	// NoCronOption reports a freebsd-update that predates
	// --not-running-from-cron: its fetch needs a terminal.
	NoCronOption bool `json:"no_cron_option,omitempty"`
}

// Pkg is pkg(8)'s state.
type Pkg struct {
	Activated bool   `json:"activated"`
	ABI       string `json:"abi,omitempty"`
	// Pkgbase reports a base system installed from packages.
	Pkgbase bool `json:"pkgbase"`
	// FromPorts are the packages no repository installed (pkg query %R
	// prints unknown-repository): built from the ports tree.
	FromPorts []string `json:"from_ports,omitempty"`
	// Portmaster reports ports-mgmt/portmaster installed.
	Portmaster bool `json:"portmaster,omitempty"`
}

// EFI is the firmware's boot configuration from efibootmgr -v.
type EFI struct {
	BootCurrent string     `json:"boot_current,omitempty"`
	BootOrder   []string   `json:"boot_order,omitempty"`
	Entries     []EFIEntry `json:"entries,omitempty"`
}

// EFIEntry is one Boot#### variable.
type EFIEntry struct {
	Number  string `json:"number"`
	Label   string `json:"label"`
	Active  bool   `json:"active"`
	Current bool   `json:"current"`
	// Device and Path come from the mapped line ("ada0p1",
	// "/efi/freebsd/loader.efi") when efibootmgr could map it.
	Device string `json:"device,omitempty"`
	Path   string `json:"path,omitempty"`
	// PartitionGUID is the GPT partition its device path names.
	PartitionGUID string `json:"partition_guid,omitempty"`
	// FreeBSDLoader: the entry starts efi/freebsd/loader.efi.
	FreeBSDLoader bool `json:"freebsd_loader,omitempty"`
	// Unreferenced: the entry is in no BootOrder (efibootmgr lists it under
	// "Unreferenced Variables:"); the firmware does not try it.
	Unreferenced bool `json:"unreferenced,omitempty"`
}

// HasLoaderEntry reports whether a boot entry starts FreeBSD's loader on
// the ESP e.
func (f *EFI) HasLoaderEntry(e ESP) bool {
	for _, en := range f.Entries {
		if en.FreeBSDLoader && !en.Unreferenced && (en.Device == e.Name || (e.RawUUID != "" && strings.EqualFold(en.PartitionGUID, e.RawUUID))) {
			return true
		}
	}
	return false
}

// BootFiles are sha256 digests of the boot files installed under /boot.
type BootFiles struct {
	LoaderEFI  string `json:"loader_efi,omitempty"`
	GPTZFSBoot string `json:"gptzfsboot,omitempty"`
	PMBR       string `json:"pmbr,omitempty"`
}

// HumanBytes formats a size in bytes with binary units, e.g. "1.5 GiB".
func HumanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
