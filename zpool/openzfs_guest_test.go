// SPDX-License-Identifier: BSD-2-Clause

package zpool

import (
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The openzfs-2.3-guest-* fixtures are what real OpenZFS 2.3 printed in
// the vmtest Linux guest (TestRealOpenZFSGuest) for a bsdinstall mirror
// whose partitions carry FreeBSD names. Each difference from the FreeBSD
// fixtures is a case here, read by the same parsers.

// guestFeaturesBeyond21 are the features OpenZFS 2.3 has beyond the
// openzfs-2.1-freebsd compatibility profile, in zpool upgrade's order.
var guestFeaturesBeyond21 = []string{"edonr", "zilsaxattr", "head_errlog", "blake3", "block_cloning",
	"vdev_zaps_v2", "redaction_list_spill", "raidz_expansion", "fast_dedup", "longname", "large_microzap"}

func TestOpenZFSGuestStatus(t *testing.T) {
	seen := map[string]bool{}
	parse := func(name string) Pool {
		t.Helper()
		seen[name] = true
		pools, err := ParseStatus(readFixture(t, name))
		if err != nil || len(pools) != 1 {
			t.Fatalf("%s: %d pools, %v", name, len(pools), err)
		}
		return pools[0]
	}

	p := parse("openzfs-2.3-guest-zpool-status-features-not-enabled.txt")
	if p.State != "ONLINE" || len(p.Problems()) > 0 {
		t.Errorf("features not enabled: state %s, problems %v; want a healthy pool", p.State, p.Problems())
	}
	if !strings.HasPrefix(p.Status, "Some supported and requested features are not enabled on the pool.") || !strings.Contains(p.Action, "zpool upgrade") {
		t.Errorf("status %q, action %q", p.Status, p.Action)
	}
	if got := names(p.DataLeaves()); !cmp.Equal(got, []string{"ada0p4", "ada1p4"}) {
		t.Errorf("DataLeaves = %v", got)
	}

	p = parse("openzfs-2.3-guest-zpool-status-upgraded.txt")
	if p.Status != "" || len(p.Problems()) > 0 || p.Errors != "No known data errors" {
		t.Errorf("upgraded: status %q, problems %v, errors %q", p.Status, p.Problems(), p.Errors)
	}

	// Linux says the absent member's label is missing (ZFS-8000-4J) where
	// FreeBSD says it could not be opened (ZFS-8000-2Q): the same pool
	// problem for zupgrade, read from the tree, not from the text.
	p = parse("openzfs-2.3-guest-zpool-status-degraded-member-absent.txt")
	if p.State != "DEGRADED" || p.See != "https://openzfs.github.io/openzfs-docs/msg/ZFS-8000-4J" {
		t.Errorf("degraded: state %s, see %q", p.State, p.See)
	}
	if !strings.HasPrefix(p.Status, "One or more devices could not be used because the label is missing or invalid.") {
		t.Errorf("degraded: status %q", p.Status)
	}
	leaves := p.DataLeaves()
	if len(leaves) != 2 || leaves[0].Name != "13195529603609959644" || leaves[0].State != "UNAVAIL" || leaves[0].Was != "/dev/ada0p4" || leaves[1].Name != "ada1p4" {
		t.Errorf("degraded: leaves %+v", leaves)
	}
	if probs := p.Problems(); len(probs) == 0 || !strings.Contains(joinProblems(probs), "/dev/ada0p4") {
		t.Errorf("degraded: problems %v do not name the absent member", probs)
	}

	p = parse("openzfs-2.3-guest-zpool-status-degraded-ada1p4-absent.txt")
	leaves = p.DataLeaves()
	if p.State != "DEGRADED" || len(leaves) != 2 || leaves[0].Name != "ada0p4" || leaves[1].Was != "/dev/ada1p4" || leaves[1].State != "UNAVAIL" {
		t.Errorf("ada1p4 absent: state %s, leaves %+v", p.State, leaves)
	}

	p = parse("openzfs-2.3-guest-zpool-status-scrubbed.txt")
	if len(p.Scans) != 1 || p.Scans[0].Kind != ScanScrub || p.Scans[0].Running() || len(p.Problems()) > 0 {
		t.Errorf("scrubbed: scans %+v, problems %v", p.Scans, p.Problems())
	}

	// The resilver is done, the old member not yet detached: a replacing
	// vdev with both, no problem, the scan finished.
	p = parse("openzfs-2.3-guest-zpool-status-replacing-after-resilver.txt")
	if got := names(p.DataLeaves()); !cmp.Equal(got, []string{"ada0p4", "ada1p4", "ada2p4"}) || len(p.Problems()) > 0 {
		t.Errorf("replacing: leaves %v, problems %v", got, p.Problems())
	}
	if m := p.Root.Children[0]; len(m.Children) != 2 || m.Children[1].Kind != KindReplacing || m.Children[1].Name != "replacing-1" {
		t.Errorf("replacing: mirror children %+v", m.Children)
	}
	if len(p.Scans) != 1 || p.Scans[0].Kind != ScanResilver || p.Scans[0].Running() {
		t.Errorf("replacing: scans %+v", p.Scans)
	}

	for _, f := range fixtures(t, "openzfs-2.3-guest-zpool-status-") {
		if !seen[f] {
			t.Errorf("testdata/%s has no expectation", f)
		}
	}
}

func joinProblems(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

func TestOpenZFSGuestProperties(t *testing.T) {
	pools, err := ParseProperties(readFixture(t, "openzfs-2.3-guest-zpool-get-Hp-features-of-2.1.txt"))
	if err != nil || len(pools) != 1 {
		t.Fatalf("%d pools, %v", len(pools), err)
	}
	p := pools[0]
	if b, ok := p.Bootfs(); !ok || b != "zroot/ROOT/default" {
		t.Errorf("Bootfs = %q, %v", b, ok)
	}
	if c := p.Compatibility(); len(c) != 0 {
		t.Errorf("Compatibility = %v, want none (off)", c)
	}
	if got := p.Values["altroot"]; got.Value != "/mnt" || got.Source != "local" {
		t.Errorf("altroot = %+v", got)
	}
	size, err := p.Size()
	if err != nil || size != 671088640 {
		t.Errorf("Size = %d, %v", size, err)
	}
	var dis []string
	for f, s := range p.Features() {
		if _, known := LookupFeature(f); !known {
			t.Errorf("feature %s of OpenZFS 2.3 is not in the feature table", f)
		}
		if s == FeatureDisabled {
			dis = append(dis, f)
		}
	}
	sort.Strings(dis)
	want := append([]string(nil), guestFeaturesBeyond21...)
	sort.Strings(want)
	if diff := cmp.Diff(want, dis); diff != "" {
		t.Errorf("disabled features (-want +got):\n%s", diff)
	}
	// Nothing of 2.3's is active on the fresh pool that the loader cannot
	// read, and enabling the rest would not make it unbootable.
	c := CheckLoader(&p, guestFeaturesBeyond21)
	if len(c.ActiveUnreadable) > 0 || len(c.ActiveUnknown) > 0 || len(c.EnableUnknown) > 0 {
		t.Errorf("CheckLoader = %+v", c)
	}
}

func TestOpenZFSGuestPropertiesUpgraded(t *testing.T) {
	pools, err := ParseProperties(readFixture(t, "openzfs-2.3-guest-zpool-get-Hp-upgraded-degraded.txt"))
	if err != nil || len(pools) != 1 {
		t.Fatalf("%d pools, %v", len(pools), err)
	}
	p := pools[0]
	if p.Health() != "DEGRADED" {
		t.Errorf("Health = %q", p.Health())
	}
	for _, f := range guestFeaturesBeyond21 {
		if s := p.Feature(f); s != FeatureEnabled && s != FeatureActive {
			t.Errorf("feature %s is %q after zpool upgrade", f, s)
		}
	}
	// What zpool upgrade makes active at once (head_errlog, vdev_zaps_v2)
	// the loader reads: the pool stays bootable.
	if c := CheckLoader(&p, nil); len(c.ActiveUnreadable) > 0 || len(c.ActiveUnknown) > 0 {
		t.Errorf("CheckLoader = %+v", c)
	}
	if p.Feature("head_errlog") != FeatureActive || p.Feature("vdev_zaps_v2") != FeatureActive {
		t.Errorf("head_errlog %s, vdev_zaps_v2 %s: want both active right after zpool upgrade", p.Feature("head_errlog"), p.Feature("vdev_zaps_v2"))
	}
}

func TestOpenZFSGuestUpgradeLists(t *testing.T) {
	u, err := ParseUpgradeList(readFixture(t, "openzfs-2.3-guest-zpool-upgrade-noargs-features-to-enable.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !u.FeatureFlags || len(u.Legacy) != 0 {
		t.Errorf("FeatureFlags %v, Legacy %v", u.FeatureFlags, u.Legacy)
	}
	if diff := cmp.Diff(guestFeaturesBeyond21, u.WouldEnable("zroot")); diff != "" {
		t.Errorf("WouldEnable(zroot) (-want +got):\n%s", diff)
	}
	u, err = ParseUpgradeList(readFixture(t, "openzfs-2.3-guest-zpool-upgrade-noargs-all-enabled.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(u.NotEnabled) != 0 || len(u.Legacy) != 0 || !u.FeatureFlags {
		t.Errorf("all enabled: %+v", u)
	}
	fs, err := ParseFilesystemUpgradeList(readFixture(t, "openzfs-2.3-guest-zfs-upgrade-noargs-current.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if fs.Current != 5 || len(fs.OutOfDate) != 0 || len(fs.Newer) != 0 {
		t.Errorf("zfs upgrade: %+v", fs)
	}
}

// TestOpenZFSGuestCompatibilityListing: with a compatibility profile the
// listing still names every feature the system has (the property is not
// applied there), so WouldEnable does not apply it either; the property
// itself reads as the profile's name, for AllowedByCompatibility.
func TestOpenZFSGuestCompatibilityListing(t *testing.T) {
	u, err := ParseUpgradeList(readFixture(t, "openzfs-2.3-guest-zpool-upgrade-noargs-compatibility-2.2.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(guestFeaturesBeyond21, u.WouldEnable("zroot")); diff != "" {
		t.Errorf("WouldEnable(zroot) (-want +got):\n%s", diff)
	}
	pools, err := ParseProperties(readFixture(t, "openzfs-2.3-guest-zpool-get-Hp-compatibility-2.2.txt"))
	if err != nil || len(pools) != 1 {
		t.Fatalf("%d pools, %v", len(pools), err)
	}
	if c := pools[0].Compatibility(); !cmp.Equal(c, []string{"openzfs-2.2-freebsd"}) {
		t.Errorf("Compatibility = %v", c)
	}
}
