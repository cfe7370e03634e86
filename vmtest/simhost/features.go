// SPDX-License-Identifier: BSD-2-Clause

package simhost

// Feature is one ZFS pool feature flag as the simulated host knows it.
type Feature struct {
	// Name is the short name (feature@NAME), GUID the on-disk name.
	Name, GUID string
	// Since is the first release whose kernel and zpool(8) support it.
	Since string
	// LoaderSince is the first release whose boot code (gptzfsboot,
	// loader, loader.efi) can read a pool on which it is active; empty
	// when no loader can (stand/libsa/zfs/zfsimpl.c features_for_read).
	LoaderSince string
	// ReadOnlyCompat features never stop a reader: the loader ignores
	// them and an older kernel can import the pool read-only.
	ReadOnlyCompat bool
	// ActivateOnEnable features become active as soon as they are
	// enabled (zpool upgrade), without any data using them.
	ActivateOnEnable bool
	// UsedByDefault features become active on a pool made by the
	// installer of a release that supports them (lz4 compression,
	// default checksums, ...).
	UsedByDefault bool
}

// featureTable lists the features in OpenZFS order. Since and
// LoaderSince are modelled from FreeBSD release history (8.4 carried the
// 9.2 ZFS); the loader list of 14.x/15.x matches features_for_read.
var featureTable = []Feature{
	{Name: "async_destroy", GUID: "com.delphix:async_destroy", Since: "9.2", ReadOnlyCompat: true},
	{Name: "empty_bpobj", GUID: "com.delphix:empty_bpobj", Since: "9.2", ReadOnlyCompat: true, UsedByDefault: true},
	{Name: "lz4_compress", GUID: "org.illumos:lz4_compress", Since: "9.2", LoaderSince: "9.2", ActivateOnEnable: true},
	{Name: "multi_vdev_crash_dump", GUID: "com.joyent:multi_vdev_crash_dump", Since: "10.1", LoaderSince: "10.1"},
	{Name: "spacemap_histogram", GUID: "com.delphix:spacemap_histogram", Since: "9.3", ReadOnlyCompat: true, UsedByDefault: true},
	{Name: "enabled_txg", GUID: "com.delphix:enabled_txg", Since: "9.3", ReadOnlyCompat: true, ActivateOnEnable: true},
	{Name: "hole_birth", GUID: "com.delphix:hole_birth", Since: "9.3", LoaderSince: "9.3", ActivateOnEnable: true},
	{Name: "extensible_dataset", GUID: "com.delphix:extensible_dataset", Since: "9.3", LoaderSince: "9.3", UsedByDefault: true},
	{Name: "embedded_data", GUID: "com.delphix:embedded_data", Since: "10.1", LoaderSince: "10.1", ActivateOnEnable: true},
	{Name: "bookmarks", GUID: "com.delphix:bookmarks", Since: "9.3", ReadOnlyCompat: true},
	{Name: "filesystem_limits", GUID: "com.joyent:filesystem_limits", Since: "10.1", ReadOnlyCompat: true},
	{Name: "large_blocks", GUID: "org.open-zfs:large_blocks", Since: "10.2", LoaderSince: "10.2"},
	{Name: "large_dnode", GUID: "org.zfsonlinux:large_dnode", Since: "12.0", LoaderSince: "12.0"},
	{Name: "sha512", GUID: "org.illumos:sha512", Since: "11.0", LoaderSince: "11.0"},
	{Name: "skein", GUID: "org.illumos:skein", Since: "11.0", LoaderSince: "11.0"},
	// edonr: zfs-2.0 registers it only off FreeBSD and zfs-2.1 leaves it
	// unsupported there (module/zcommon/zfeature_common.c
	// zfs_mod_supported_feature); FreeBSD has it from OpenZFS 2.2 (14.0).
	{Name: "edonr", GUID: "org.illumos:edonr", Since: "14.0"},
	{Name: "userobj_accounting", GUID: "org.zfsonlinux:userobj_accounting", Since: "13.0", ReadOnlyCompat: true, UsedByDefault: true},
	{Name: "encryption", GUID: "com.datto:encryption", Since: "13.0", LoaderSince: "13.0"},
	{Name: "project_quota", GUID: "org.zfsonlinux:project_quota", Since: "13.0", ReadOnlyCompat: true, UsedByDefault: true},
	{Name: "device_removal", GUID: "com.delphix:device_removal", Since: "12.0", LoaderSince: "12.0"},
	{Name: "obsolete_counts", GUID: "com.delphix:obsolete_counts", Since: "12.0", ReadOnlyCompat: true},
	{Name: "zpool_checkpoint", GUID: "com.delphix:zpool_checkpoint", Since: "12.0", ReadOnlyCompat: true},
	{Name: "spacemap_v2", GUID: "com.delphix:spacemap_v2", Since: "12.0", ReadOnlyCompat: true, ActivateOnEnable: true},
	{Name: "allocation_classes", GUID: "org.zfsonlinux:allocation_classes", Since: "12.1", ReadOnlyCompat: true},
	{Name: "resilver_defer", GUID: "com.datto:resilver_defer", Since: "13.0", ReadOnlyCompat: true},
	{Name: "bookmark_v2", GUID: "com.datto:bookmark_v2", Since: "13.0", LoaderSince: "13.0"},
	{Name: "redaction_bookmarks", GUID: "com.delphix:redaction_bookmarks", Since: "13.0"},
	{Name: "redacted_datasets", GUID: "com.delphix:redacted_datasets", Since: "13.0"},
	{Name: "bookmark_written", GUID: "com.delphix:bookmark_written", Since: "13.0", LoaderSince: "13.0"},
	{Name: "log_spacemap", GUID: "com.delphix:log_spacemap", Since: "13.0", ReadOnlyCompat: true, ActivateOnEnable: true},
	{Name: "livelist", GUID: "com.delphix:livelist", Since: "13.0", ReadOnlyCompat: true},
	{Name: "device_rebuild", GUID: "org.openzfs:device_rebuild", Since: "13.0", ReadOnlyCompat: true},
	{Name: "zstd_compress", GUID: "org.freebsd:zstd_compress", Since: "13.0", LoaderSince: "13.0"},
	{Name: "draid", GUID: "org.openzfs:draid", Since: "13.1"},
	{Name: "zilsaxattr", GUID: "org.openzfs:zilsaxattr", Since: "14.0", ReadOnlyCompat: true, ActivateOnEnable: true},
	{Name: "head_errlog", GUID: "com.delphix:head_errlog", Since: "14.0", LoaderSince: "14.0", ActivateOnEnable: true},
	{Name: "blake3", GUID: "org.openzfs:blake3", Since: "14.0", LoaderSince: "14.0"},
	{Name: "block_cloning", GUID: "com.fudosecurity:block_cloning", Since: "14.0", ReadOnlyCompat: true},
	{Name: "vdev_zaps_v2", GUID: "com.klarasystems:vdev_zaps_v2", Since: "14.0", LoaderSince: "14.0", UsedByDefault: true},
	// redaction_list_spill is registered in module/zcommon/zfeature_common.c
	// from OpenZFS zfs-2.3.0 on, in no zfs-2.2.x tag (FreeBSD 14.x ships
	// OpenZFS 2.2), and is in compatibility.d/openzfs-2.3, not -2.2.
	{Name: "redaction_list_spill", GUID: "com.delphix:redaction_list_spill", Since: "15.0"},
	{Name: "raidz_expansion", GUID: "org.openzfs:raidz_expansion", Since: "15.0"},
	{Name: "fast_dedup", GUID: "com.klarasystems:fast_dedup", Since: "15.0", ReadOnlyCompat: true},
	{Name: "longname", GUID: "org.zfsonlinux:longname", Since: "15.0"},
	// large_microzap is registered with ZFEATURE_FLAG_READONLY_COMPAT
	// (module/zcommon/zfeature_common.c zpool_feature_init).
	{Name: "large_microzap", GUID: "com.klarasystems:large_microzap", Since: "15.0", ReadOnlyCompat: true},
	{Name: "block_cloning_endian", GUID: "com.truenas:block_cloning_endian", Since: "15.0", ReadOnlyCompat: true},
	{Name: "physical_rewrite", GUID: "com.truenas:physical_rewrite", Since: "15.0", ReadOnlyCompat: true},
}

// LookupFeature finds a feature by short name or GUID.
func LookupFeature(name string) (Feature, bool) {
	for _, f := range featureTable {
		if f.Name == name || f.GUID == name {
			return f, true
		}
	}
	return Feature{}, false
}

// supportedBy reports whether release r's kernel and zpool(8) know f.
func (f Feature) supportedBy(r Release) bool {
	return r.PoolVersion() >= 5000 && r.zfsEra() >= MustRelease(f.Since+"-RELEASE").zfsEra()
}

// readableByLoader reports whether boot code of release r can read a
// pool on which f is active.
func (f Feature) readableByLoader(r Release) bool {
	if f.ReadOnlyCompat {
		return true
	}
	if f.LoaderSince == "" {
		return false
	}
	return r.PoolVersion() >= 5000 && r.zfsEra() >= MustRelease(f.LoaderSince+"-RELEASE").zfsEra()
}

// featuresOf lists the features release r supports, in table order.
func featuresOf(r Release) []Feature {
	var out []Feature
	for _, f := range featureTable {
		if f.supportedBy(r) {
			out = append(out, f)
		}
	}
	return out
}

// loaderFeatureGUIDs lists the GUIDs of the read-incompatible features
// boot code of release r can read (its features_for_read list).
func loaderFeatureGUIDs(r Release) []string {
	var out []string
	for _, f := range featureTable {
		if !f.ReadOnlyCompat && f.readableByLoader(r) {
			out = append(out, f.GUID)
		}
	}
	return out
}

// KnownTo reports whether release r's OpenZFS (its kernel and zpool(8))
// knows the pool feature name, a short name or GUID.
func KnownTo(name string, r Release) bool {
	f, ok := LookupFeature(name)
	return ok && f.supportedBy(r)
}
