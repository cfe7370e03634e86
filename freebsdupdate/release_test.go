// SPDX-License-Identifier: BSD-2-Clause

package freebsdupdate

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRelease(t *testing.T) {
	tests := []struct {
		in   string
		want Release
		text string // String(); empty means in
	}{
		{in: "14.2-RELEASE", want: Release{Major: 14, Minor: 2, Branch: BranchRelease}},
		{in: "14.2-RELEASE-p3", want: Release{Major: 14, Minor: 2, Branch: BranchRelease, Patch: 3}},
		{in: "15.0-BETA2", want: Release{Major: 15, Minor: 0, Branch: BranchBeta, Stage: 2}},
		{in: "14.0-RC1", want: Release{Major: 14, Minor: 0, Branch: BranchRC, Stage: 1}},
		{in: "15.0-ALPHA3", want: Release{Major: 15, Minor: 0, Branch: BranchAlpha, Stage: 3}},
		{in: "13.1-RELEASE-p7", want: Release{Major: 13, Minor: 1, Branch: BranchRelease, Patch: 7}},
		{in: "8.2-RELEASE", want: Release{Major: 8, Minor: 2, Branch: BranchRelease}},
		{in: "4.11-RELEASE", want: Release{Major: 4, Minor: 11, Branch: BranchRelease}},
		{in: "15.0-CURRENT", want: Release{Major: 15, Minor: 0, Branch: BranchCurrent}},
		{in: "14.1-STABLE", want: Release{Major: 14, Minor: 1, Branch: BranchStable}},
		{in: "13.0-PRERELEASE", want: Release{Major: 13, Minor: 0, Branch: BranchPrerelease}},
		{in: "15.0-RC1-p1", want: Release{Major: 15, Minor: 0, Branch: BranchRC, Stage: 1, Patch: 1}},
		{in: "15.0-BETA", want: Release{Major: 15, Minor: 0, Branch: BranchBeta}},
		{in: "10.2-RELEASE ", want: Release{Major: 10, Minor: 2, Branch: BranchRelease}, text: "10.2-RELEASE"},
		{in: "15.0-RELEASE-p0", want: Release{Major: 15, Minor: 0, Branch: BranchRelease}, text: "15.0-RELEASE"},
	}
	for _, tt := range tests {
		got, err := ParseRelease(tt.in)
		if err != nil {
			t.Errorf("ParseRelease(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseRelease(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		text := tt.text
		if text == "" {
			text = tt.in
		}
		if got.String() != text {
			t.Errorf("ParseRelease(%q).String() = %q, want %q", tt.in, got.String(), text)
		}
	}
}

func TestParseReleaseRejects(t *testing.T) {
	for _, in := range []string{
		"", "14", "14.2", "14.2-", "-RELEASE", "14-RELEASE", "14.2.1-RELEASE",
		"14.x-RELEASE", "0.1-RELEASE", "014.2-RELEASE", "14.2-release", "14.2-RELEASEp3",
		"14.2-RELEASE-3", "14.2-RELEASE-p", "14.2-RELEASE-px", "14.2-RELEASE-p03",
		"14.2-RELEASE-p3-p4", "14.2-RELEASE2", "14.2-STABLE1", "14.2-BETA0", "14.2-SECURITY",
		"14.2-RC1x", "14.2-RELEASE-p3 extra", "15.0-CURRENT-p-1", "1234.0-RELEASE",
	} {
		if r, err := ParseRelease(in); err == nil {
			t.Errorf("ParseRelease(%q) = %+v, want an error", in, r)
		}
	}
}

func TestCompareOrdersReleaseCycle(t *testing.T) {
	// Each name orders strictly before the next.
	ordered := []string{
		"8.2-RELEASE", "9.0-RELEASE", "13.1-RELEASE", "13.1-RELEASE-p7", "13.2-RELEASE",
		"14.0-CURRENT", "14.0-ALPHA1", "14.0-BETA1", "14.0-BETA2", "14.0-BETA10",
		"14.0-RC1", "14.0-RC1-p1", "14.0-RC2", "14.0-RELEASE", "14.0-RELEASE-p1",
		"14.0-RELEASE-p10", "14.0-STABLE", "14.1-PRERELEASE", "14.1-BETA1", "14.1-RELEASE",
		"14.10-RELEASE", "15.0-CURRENT", "15.0-RELEASE",
	}
	for i := 0; i+1 < len(ordered); i++ {
		a, b := MustParseRelease(ordered[i]), MustParseRelease(ordered[i+1])
		if Compare(a, b) != -1 || Compare(b, a) != +1 || !a.Before(b) || b.Before(a) {
			t.Errorf("%s should order before %s", a, b)
		}
		if Compare(a, a) != 0 {
			t.Errorf("Compare(%s, itself) != 0", a)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		from, to string
		want     Move
	}{
		{"14.2-RELEASE", "14.2-RELEASE", MoveNone},
		{"14.2-RELEASE-p3", "14.2-RELEASE-p1", MoveDowngrade},
		{"14.2-RELEASE", "14.1-RELEASE", MoveDowngrade},
		{"14.2-RELEASE-p1", "14.2-RELEASE-p3", MovePatch},
		{"15.0-BETA2", "15.0-RC1", MoveStage},
		{"15.0-RC3", "15.0-RELEASE", MoveStage},
		{"14.1-RELEASE-p6", "14.2-RELEASE", MoveMinor},
		{"14.3-RELEASE-p5", "15.0-RELEASE", MoveMajor},
		{"8.2-RELEASE", "9.0-RELEASE", MoveMajor},
	}
	for _, tt := range tests {
		if got := Classify(MustParseRelease(tt.from), MustParseRelease(tt.to)); got != tt.want {
			t.Errorf("Classify(%s, %s) = %s, want %s", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestCheckUpgrade(t *testing.T) {
	tests := []struct {
		current, target string
		want            Move
		errHas          string // non-empty: an error containing this
	}{
		{current: "14.1-RELEASE-p6", target: "14.2-RELEASE", want: MoveMinor},
		{current: "14.3-RELEASE-p5", target: "15.0-RELEASE", want: MoveMajor},
		{current: "14.1-RELEASE-p6", target: "14.2-BETA2", want: MoveMinor},
		{current: "15.0-BETA2", target: "15.0-RC1", want: MoveStage},
		{current: "15.0-RC3-p1", target: "15.0-RELEASE", want: MoveStage},
		{current: "8.2-RELEASE", target: "9.0-RELEASE", want: MoveMajor},
		{current: "14.2-RELEASE-p1", target: "14.2-RELEASE", errHas: "Cannot upgrade from 14.2-RELEASE to itself"},
		{current: "14.2-RELEASE", target: "14.2-RELEASE", errHas: "to itself"},
		{current: "15.0-CURRENT", target: "15.0-RELEASE", errHas: "Cannot upgrade from a version that is not a release"},
		{current: "14.1-STABLE", target: "14.2-RELEASE", errHas: "not a release"},
		{current: "14.1-RELEASE", target: "14.2-STABLE", errHas: "not STABLE"},
		{current: "14.1-RELEASE", target: "15.0-CURRENT", errHas: "not CURRENT"},
		{current: "14.1-RELEASE", target: "14.2-RELEASE-p3", errHas: "use 14.2-RELEASE"},
		{current: "14.2-RELEASE", target: "14.1-RELEASE", errHas: "older"},
		{current: "15.0-RELEASE", target: "15.0-RC1", errHas: "older"},
	}
	for _, tt := range tests {
		got, err := CheckUpgrade(MustParseRelease(tt.current), MustParseRelease(tt.target))
		if tt.errHas != "" {
			var ue *UpgradeError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("CheckUpgrade(%s, %s) = %v, %v; want an *UpgradeError containing %q", tt.current, tt.target, got, err, tt.errHas)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("CheckUpgrade(%s, %s) = %v, %v; want %v", tt.current, tt.target, got, err, tt.want)
		}
	}
	if _, err := CheckUpgrade(Release{}, MustParseRelease("14.2-RELEASE")); err == nil {
		t.Error("CheckUpgrade with an unknown current release succeeded")
	}
}

func FuzzParseRelease(f *testing.F) {
	for _, s := range []string{"14.2-RELEASE", "14.2-RELEASE-p3", "15.0-BETA2", "14.0-RC1", "15.0-CURRENT", "14.1-STABLE", "8.2-RELEASE", "15.0-RELEASE-p0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRelease(s)
		if err != nil {
			return
		}
		if r.IsZero() {
			t.Fatalf("ParseRelease(%q) succeeded with the zero Release", s)
		}
		again, err := ParseRelease(r.String())
		if err != nil || again != r {
			t.Fatalf("ParseRelease(%q) = %+v; its String %q parses to %+v, %v", s, r, r.String(), again, err)
		}
		if Compare(r, again) != 0 || Compare(r, r.Base()) < 0 {
			t.Fatalf("Compare is inconsistent for %q", s)
		}
	})
}
