// SPDX-License-Identifier: BSD-2-Clause

package zpool

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func pending(names ...string) []PendingFeature {
	var out []PendingFeature
	for _, n := range names {
		name, explicit := strings.CutSuffix(n, "(*)")
		out = append(out, PendingFeature{Name: name, Explicit: explicit})
	}
	return out
}

func TestParseUpgradeList(t *testing.T) {
	later := []string{"redaction_list_spill", "raidz_expansion", "fast_dedup", "longname", "large_microzap",
		"dynamic_gang_header(*)", "block_cloning_endian", "physical_rewrite", "draid_failure_domains"}
	tests := []struct {
		file string
		want UpgradeList
	}{
		{"zpool-upgrade-noargs-features-to-enable.txt", UpgradeList{
			FeatureFlags: true, Legacy: map[string]int{},
			NotEnabled: map[string][]PendingFeature{"zstore": pending("multi_vdev_crash_dump", "spacemap_histogram",
				"enabled_txg", "hole_birth", "extensible_dataset", "bookmarks", "filesystem_limits")},
		}},
		{"zpool-upgrade-noargs-legacy-v28.txt", UpgradeList{
			FeatureFlags: true, Legacy: map[string]int{"mypool": 28}, NotEnabled: map[string][]PendingFeature{},
		}},
		{"zpool-upgrade-noargs-pre-feature-flags-v28-blog.txt", UpgradeList{
			SystemVersion: 28, Legacy: map[string]int{}, NotEnabled: map[string][]PendingFeature{},
		}},
		{"zpool-upgrade-noargs-variant-openzfs-all-enabled.txt", UpgradeList{
			FeatureFlags: true, Legacy: map[string]int{}, NotEnabled: map[string][]PendingFeature{},
		}},
		{"zpool-upgrade-noargs-variant-openzfs-2.4-legacy-and-features.txt", UpgradeList{
			FeatureFlags: true, Legacy: map[string]int{"backup": 28},
			NotEnabled: map[string][]PendingFeature{
				"zroot": pending(later...),
				"tank":  pending(append([]string{"zilsaxattr", "head_errlog", "blake3", "block_cloning", "vdev_zaps_v2"}, later...)...),
			},
		}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseUpgradeList(readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, f := range fixtures(t, "zpool-upgrade-noargs-") {
		if !seen[f] {
			t.Errorf("testdata/%s has no expectation", f)
		}
	}
}

func TestUpgradeListWouldEnable(t *testing.T) {
	u, err := ParseUpgradeList(readFixture(t, "zpool-upgrade-noargs-variant-openzfs-2.4-legacy-and-features.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"redaction_list_spill", "raidz_expansion", "fast_dedup", "longname", "large_microzap",
		"block_cloning_endian", "physical_rewrite", "draid_failure_domains"}
	if diff := cmp.Diff(want, u.WouldEnable("zroot")); diff != "" {
		t.Errorf("WouldEnable(zroot) (-want +got):\n%s", diff)
	}
	if got := u.WouldEnable("backup"); got != nil {
		t.Errorf("WouldEnable(backup) = %v, want nil for a legacy pool", got)
	}
}

func TestParseUpgradeListErrors(t *testing.T) {
	const ff = "This system supports ZFS pool feature flags.\n\n"
	tests := []struct {
		name string
		out  string
		line int
	}{
		{"empty", "", 0},
		{"unknown first line", "zpool: command not found\n", 1},
		{"feature before pool", ff + "POOL  FEATURE\n---------------\n      lz4_compress\n", 5},
		{"bad feature name", ff + "POOL  FEATURE\n---------------\nzroot\n      Lz4 Compress\n", 6},
		{"header without dashes", ff + "POOL  FEATURE\nzroot\n", 3},
		{"pool without features", ff + "POOL  FEATURE\n---------------\nzroot\n", 0},
		{"pool twice", ff + "POOL  FEATURE\n---------------\nzroot\n      a\nzroot\n      b\n", 7},
		{"legacy pool twice", ff + "VER  POOL\n---  ------------\n28   a\n15   a\n", 6},
		{"indented prose", ff + "      lz4_compress\n", 3},
		{"garbage version", "This system is currently running ZFS pool version x.\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseUpgradeList(tt.out)
			wantParseError(t, err, UpgradeListCommand, tt.line)
		})
	}
}

func TestParseFilesystemUpgradeList(t *testing.T) {
	tests := []struct {
		file string
		want FilesystemUpgradeList
	}{
		{"zfs-upgrade-noargs-current-blog.txt", FilesystemUpgradeList{Current: 5}},
		{"zfs-upgrade-noargs-variant-out-of-date.txt", FilesystemUpgradeList{Current: 5, OutOfDate: []FilesystemVersion{
			{"zroot", 4}, {"zroot/ROOT", 4}, {"zroot/ROOT/default", 4}, {"zroot/usr/home", 3}, {"zroot/var/log", 4},
		}}},
		{"zfs-upgrade-noargs-variant-old-and-newer.txt", FilesystemUpgradeList{Current: 5,
			OutOfDate: []FilesystemVersion{{"tank/old data", 4}},
			Newer:     []FilesystemVersion{{"tank/from the future", 6}},
		}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseFilesystemUpgradeList(readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, f := range fixtures(t, "zfs-upgrade-noargs-") {
		if !seen[f] {
			t.Errorf("testdata/%s has no expectation", f)
		}
	}
}

func TestParseFilesystemUpgradeListErrors(t *testing.T) {
	const head = "This system is currently running ZFS filesystem version 5.\n\n"
	tests := []struct {
		name string
		out  string
		line int
	}{
		{"empty", "", 0},
		{"pool listing instead", "This system supports ZFS pool feature flags.\n", 1},
		{"table without announcement", head + "VER  FILESYSTEM\n---  ------------\n 4   zroot\n", 3},
		{"table without dashes", head + "The following filesystems are out of date, and can be upgraded.\n\nVER  FILESYSTEM\n 4   zroot\n", 5},
		{"twice", head + "The following filesystems are out of date, and can be upgraded.\n\nVER  FILESYSTEM\n---  ------------\n 4   zroot\n 4   zroot\n", 8},
		{"stray row", head + " 4   zroot\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFilesystemUpgradeList(tt.out)
			wantParseError(t, err, FilesystemUpgradeListCommand, tt.line)
		})
	}
}

func FuzzParseUpgradeList(f *testing.F) {
	for _, name := range fixtures(f, "zpool-upgrade-noargs-") {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, out string) {
		u, err := ParseUpgradeList(out)
		if err != nil {
			requireParseError(t, err)
			return
		}
		if u.FeatureFlags == (u.SystemVersion != 0) {
			t.Fatalf("FeatureFlags %v with SystemVersion %d", u.FeatureFlags, u.SystemVersion)
		}
		for pool, fs := range u.NotEnabled {
			if pool == "" || len(fs) == 0 {
				t.Fatalf("pool %q with features %v", pool, fs)
			}
			for _, f := range fs {
				if !featureName.MatchString(f.Name) {
					t.Fatalf("feature name %q", f.Name)
				}
			}
		}
	})
}

func FuzzParseFilesystemUpgradeList(f *testing.F) {
	for _, name := range fixtures(f, "zfs-upgrade-noargs-") {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, out string) {
		u, err := ParseFilesystemUpgradeList(out)
		if err != nil {
			requireParseError(t, err)
			return
		}
		for _, fs := range append(u.OutOfDate, u.Newer...) {
			if fs.Name == "" {
				t.Fatalf("empty file system name in %+v", u)
			}
		}
	})
}
