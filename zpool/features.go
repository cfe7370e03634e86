// SPDX-License-Identifier: BSD-2-Clause

package zpool

import "sort"

// FeatureInfo describes one OpenZFS pool feature as far as booting goes.
type FeatureInfo struct {
	// Name is the short name zpool prints (feature@NAME, zpool upgrade).
	Name string
	// GUID is the name stored on disk and checked by the boot loader,
	// e.g. "org.illumos:lz4_compress".
	GUID string
	// ReadOnlyCompatible is true for features marked
	// ZFEATURE_FLAG_READONLY_COMPAT: software that does not know them can
	// still read the pool, so they never keep the loader from booting.
	ReadOnlyCompatible bool
	// LoaderReads is true for read-incompatible features that the FreeBSD
	// loader (loader, loader.efi) and gptzfsboot can read.
	LoaderReads bool
}

// BlocksLoader reports whether the FreeBSD loader refuses a pool on which
// this feature is active ("ZFS: unsupported feature: GUID").
func (f FeatureInfo) BlocksLoader() bool { return !f.ReadOnlyCompatible && !f.LoaderReads }

type readability int

const (
	readOnlyCompatible readability = iota // never blocks a boot
	loaderReads                           // read-incompatible, in features_for_read
	loaderCannotRead                      // read-incompatible, not in features_for_read
)

// featureTable lists every pool feature OpenZFS knows, with what the FreeBSD
// boot code makes of it. Sources:
//   - names, GUIDs and ZFEATURE_FLAG_READONLY_COMPAT: openzfs/zfs
//     module/zcommon/zfeature_common.c, zpool_feature_init(), at commit
//     be7657e3f2788c4e5edb635d0bc5c24eff9eb2db;
//   - what the loader reads: freebsd/freebsd-src stand/libsa/zfs/zfsimpl.c,
//     features_for_read[], at commit 0189e27e67724ee604119d73a4ac3c547269dd5d
//     (14.x/15.x), which loader, loader.efi and gptzfsboot share. It checks
//     only features whose reference count is not zero, i.e. active ones
//     (check_feature() skips a value of 0; see also
//     https://reviews.freebsd.org/rS303630): an enabled but unused feature
//     does not block a boot.
//
// The loaderCannotRead entries are derived by comparing the two lists:
// read-incompatible features missing from features_for_read. Older loaders
// read fewer features; this table describes the loader of 14.x/15.x, which
// zupgrade installs before it upgrades a pool.
var featureTable = []struct {
	name, guid string
	read       readability
}{
	{"async_destroy", "com.delphix:async_destroy", readOnlyCompatible},
	{"empty_bpobj", "com.delphix:empty_bpobj", readOnlyCompatible},
	{"lz4_compress", "org.illumos:lz4_compress", loaderReads},
	{"multi_vdev_crash_dump", "com.joyent:multi_vdev_crash_dump", loaderReads},
	{"spacemap_histogram", "com.delphix:spacemap_histogram", readOnlyCompatible},
	{"enabled_txg", "com.delphix:enabled_txg", readOnlyCompatible},
	{"hole_birth", "com.delphix:hole_birth", loaderReads},
	{"zpool_checkpoint", "com.delphix:zpool_checkpoint", readOnlyCompatible},
	{"spacemap_v2", "com.delphix:spacemap_v2", readOnlyCompatible},
	{"extensible_dataset", "com.delphix:extensible_dataset", loaderReads},
	{"bookmarks", "com.delphix:bookmarks", readOnlyCompatible},
	{"filesystem_limits", "com.joyent:filesystem_limits", readOnlyCompatible},
	{"embedded_data", "com.delphix:embedded_data", loaderReads},
	{"livelist", "com.delphix:livelist", readOnlyCompatible},
	{"log_spacemap", "com.delphix:log_spacemap", readOnlyCompatible},
	{"large_blocks", "org.open-zfs:large_blocks", loaderReads},
	{"large_dnode", "org.zfsonlinux:large_dnode", loaderReads},
	{"sha512", "org.illumos:sha512", loaderReads},
	{"skein", "org.illumos:skein", loaderReads},
	{"edonr", "org.illumos:edonr", loaderCannotRead},
	{"redaction_bookmarks", "com.delphix:redaction_bookmarks", loaderCannotRead},
	{"redacted_datasets", "com.delphix:redacted_datasets", loaderCannotRead},
	{"bookmark_written", "com.delphix:bookmark_written", loaderReads},
	{"device_removal", "com.delphix:device_removal", loaderReads},
	{"obsolete_counts", "com.delphix:obsolete_counts", readOnlyCompatible},
	{"userobj_accounting", "org.zfsonlinux:userobj_accounting", readOnlyCompatible},
	{"bookmark_v2", "com.datto:bookmark_v2", loaderReads},
	{"encryption", "com.datto:encryption", loaderReads},
	{"project_quota", "org.zfsonlinux:project_quota", readOnlyCompatible},
	{"allocation_classes", "org.zfsonlinux:allocation_classes", readOnlyCompatible},
	{"resilver_defer", "com.datto:resilver_defer", readOnlyCompatible},
	{"device_rebuild", "org.openzfs:device_rebuild", readOnlyCompatible},
	{"zstd_compress", "org.freebsd:zstd_compress", loaderReads},
	{"draid", "org.openzfs:draid", loaderCannotRead},
	{"draid_failure_domains", "com.seagate:draid_failure_domains", loaderCannotRead},
	{"zilsaxattr", "org.openzfs:zilsaxattr", readOnlyCompatible},
	{"head_errlog", "com.delphix:head_errlog", loaderReads},
	{"blake3", "org.openzfs:blake3", loaderReads},
	{"block_cloning", "com.fudosecurity:block_cloning", readOnlyCompatible},
	{"block_cloning_endian", "com.truenas:block_cloning_endian", readOnlyCompatible},
	{"vdev_zaps_v2", "com.klarasystems:vdev_zaps_v2", loaderReads},
	{"redaction_list_spill", "com.delphix:redaction_list_spill", loaderCannotRead},
	{"raidz_expansion", "org.openzfs:raidz_expansion", loaderCannotRead},
	{"fast_dedup", "com.klarasystems:fast_dedup", readOnlyCompatible},
	{"longname", "org.zfsonlinux:longname", loaderCannotRead},
	{"large_microzap", "com.klarasystems:large_microzap", readOnlyCompatible},
	{"dynamic_gang_header", "com.klarasystems:dynamic_gang_header", loaderCannotRead},
	{"physical_rewrite", "com.truenas:physical_rewrite", readOnlyCompatible},
}

var featuresByName = func() map[string]FeatureInfo {
	m := make(map[string]FeatureInfo, len(featureTable))
	for _, f := range featureTable {
		m[f.name] = FeatureInfo{
			Name:               f.name,
			GUID:               f.guid,
			ReadOnlyCompatible: f.read == readOnlyCompatible,
			LoaderReads:        f.read == loaderReads,
		}
	}
	return m
}()

// LookupFeature returns what zupgrade knows about the feature with the
// short name zpool prints, and false for a feature it does not know.
func LookupFeature(name string) (FeatureInfo, bool) {
	f, ok := featuresByName[name]
	return f, ok
}

// LoaderCheck is the verdict of CheckLoader. Every list is sorted.
type LoaderCheck struct {
	// ActiveUnreadable lists features active on the pool now that the
	// loader cannot read: it cannot boot from this pool.
	ActiveUnreadable []string
	// ActiveUnknown lists active features zupgrade does not know, so it
	// cannot tell whether the loader reads them.
	ActiveUnknown []string
	// EnableUnreadable lists features to be enabled that the loader could
	// not read once they become active (when something on the pool starts
	// using them).
	EnableUnreadable []string
	// EnableUnknown lists features to be enabled that zupgrade does not know.
	EnableUnknown []string
}

// CheckLoader judges a pool for the FreeBSD loader and gptzfsboot (see
// featureTable for the loader version): which of its active features the
// loader cannot read, and which of toEnable (the short names `zpool
// upgrade` would enable, e.g. UpgradeList.WouldEnable) it could not read
// once active. Features of toEnable that props shows as already enabled or
// active are judged as they are now, not again.
func CheckLoader(props *Properties, toEnable []string) LoaderCheck {
	var c LoaderCheck
	have := props.Features()
	for name, state := range have {
		if state != FeatureActive {
			continue
		}
		f, ok := LookupFeature(name)
		switch {
		case !ok:
			c.ActiveUnknown = append(c.ActiveUnknown, name)
		case f.BlocksLoader():
			c.ActiveUnreadable = append(c.ActiveUnreadable, name)
		}
	}
	seen := map[string]bool{}
	for _, name := range toEnable {
		if seen[name] {
			continue
		}
		seen[name] = true
		if st := have[name]; st == FeatureEnabled || st == FeatureActive {
			continue
		}
		f, ok := LookupFeature(name)
		switch {
		case !ok:
			c.EnableUnknown = append(c.EnableUnknown, name)
		case f.BlocksLoader():
			c.EnableUnreadable = append(c.EnableUnreadable, name)
		}
	}
	for _, l := range [][]string{c.ActiveUnreadable, c.ActiveUnknown, c.EnableUnreadable, c.EnableUnknown} {
		sort.Strings(l)
	}
	return c
}
