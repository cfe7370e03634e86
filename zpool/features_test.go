// SPDX-License-Identifier: BSD-2-Clause

package zpool

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFeatureTableMatchesLoaderSource checks the table against the copy of
// the loader's features_for_read[] and the derived list kept in testdata.
func TestFeatureTableMatchesLoaderSource(t *testing.T) {
	src := readFixture(t, "freebsd-loader-zfs-features-for-read.txt")
	array := src[strings.Index(src, "features_for_read[] = {"):strings.Index(src, "NULL")]
	var loaderGUIDs []string
	for _, m := range regexp.MustCompile(`"([^"]+)"`).FindAllStringSubmatch(array, -1) {
		loaderGUIDs = append(loaderGUIDs, m[1])
	}
	if len(loaderGUIDs) < 10 {
		t.Fatalf("read only %d GUIDs from the fixture", len(loaderGUIDs))
	}
	var readable, blocking []string
	guids := map[string]bool{}
	for _, f := range featureTable {
		info, ok := LookupFeature(f.name)
		if !ok || info.GUID != f.guid || !strings.HasSuffix(info.GUID, ":"+info.Name) {
			t.Errorf("feature %s: %+v, %v", f.name, info, ok)
		}
		if guids[f.guid] {
			t.Errorf("GUID %s twice", f.guid)
		}
		guids[f.guid] = true
		if info.LoaderReads {
			readable = append(readable, info.GUID)
		}
		if info.BlocksLoader() {
			blocking = append(blocking, info.Name)
		}
	}
	sort.Strings(loaderGUIDs)
	sort.Strings(readable)
	if diff := cmp.Diff(loaderGUIDs, readable); diff != "" {
		t.Errorf("loader-readable features differ from features_for_read (-source +table):\n%s", diff)
	}
	// The derived list follows "does NOT contain:" on lines starting "#   ".
	var want []string
	after := src[strings.Index(src, "does NOT contain:"):]
	for _, line := range strings.Split(after, "\n")[1:] {
		if !strings.HasPrefix(line, "#   ") {
			break
		}
		for _, f := range strings.Split(line[1:], ",") {
			if f = strings.TrimSpace(f); f != "" {
				want = append(want, f)
			}
		}
	}
	sort.Strings(want)
	sort.Strings(blocking)
	if diff := cmp.Diff(want, blocking); diff != "" {
		t.Errorf("features the loader cannot read (-fixture +table):\n%s", diff)
	}
}

// TestFeatureTableKnowsPrintedFeatures: every feature a real zpool get
// printed is in the table.
func TestFeatureTableKnowsPrintedFeatures(t *testing.T) {
	pools, err := ParseProperties(readFixture(t, "zpool-get-all-openzfs-2.2-linux.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range pools[0].Features() {
		if _, ok := LookupFeature(name); !ok {
			t.Errorf("feature %s printed by OpenZFS 2.2 is not in the table", name)
		}
	}
	if _, ok := LookupFeature("no_such_feature"); ok {
		t.Error("LookupFeature(no_such_feature) succeeded")
	}
}

func TestCheckLoader(t *testing.T) {
	pools, err := ParseProperties(readFixture(t, "zpool-get-Hp-variant-freebsd14-two-pools.txt"))
	if err != nil {
		t.Fatal(err)
	}
	zroot := pools[1]
	list, err := ParseUpgradeList(readFixture(t, "zpool-upgrade-noargs-variant-openzfs-2.4-legacy-and-features.txt"))
	if err != nil {
		t.Fatal(err)
	}
	with := func(p Properties, feature string, st FeatureState) *Properties {
		q := Properties{Pool: p.Pool, Values: map[string]Property{}}
		for k, v := range p.Values {
			q.Values[k] = v
		}
		q.Values["feature@"+feature] = Property{Value: string(st), Source: "local"}
		return &q
	}
	tests := []struct {
		name     string
		props    *Properties
		toEnable []string
		want     LoaderCheck
	}{
		{
			name:     "14.x pool, upgrade on 15.x",
			props:    &zroot,
			toEnable: list.WouldEnable("zroot"),
			want:     LoaderCheck{EnableUnreadable: []string{"draid_failure_domains", "longname", "raidz_expansion", "redaction_list_spill"}},
		},
		{
			name:     "only loader-readable and read-only compatible features",
			props:    &zroot,
			toEnable: []string{"head_errlog", "vdev_zaps_v2", "blake3", "block_cloning", "zilsaxattr", "fast_dedup"},
		},
		{
			name:     "already enabled features are not judged again",
			props:    &zroot,
			toEnable: []string{"draid", "edonr", "redaction_bookmarks"},
		},
		{
			name:     "nothing to enable",
			props:    &zroot,
			toEnable: nil,
		},
		{
			name:  "edonr in use",
			props: with(zroot, "edonr", FeatureActive),
			want:  LoaderCheck{ActiveUnreadable: []string{"edonr"}},
		},
		{
			name:     "unknown features",
			props:    with(zroot, "quantum_dedup", FeatureActive),
			toEnable: []string{"warp_drive", "warp_drive"},
			want:     LoaderCheck{ActiveUnknown: []string{"quantum_dedup"}, EnableUnknown: []string{"warp_drive"}},
		},
		{
			name:     "legacy pool: every known feature",
			props:    &Properties{Pool: "oldpool", Values: map[string]Property{"version": {"28", "local"}}},
			toEnable: []string{"lz4_compress", "edonr", "draid", "async_destroy"},
			want:     LoaderCheck{EnableUnreadable: []string{"draid", "edonr"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckLoader(tt.props, tt.toEnable)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
