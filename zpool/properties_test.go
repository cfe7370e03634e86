// SPDX-License-Identifier: BSD-2-Clause

package zpool

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// propsSummary is what the property tests compare for one pool.
type propsSummary struct {
	Pool          string
	Count         int
	Health        string
	Bootfs        string
	HasBootfs     bool
	Compatibility []string
	Size          uint64
	Free          uint64
	SizeErr       bool
	Version       int
	Features      int
	States        map[string]FeatureState // a few features checked by name
}

func summarizeProps(p Properties, checks []string) propsSummary {
	s := propsSummary{Pool: p.Pool, Count: len(p.Values), Health: p.Health(), Compatibility: p.Compatibility(), Features: len(p.Features())}
	s.Bootfs, s.HasBootfs = p.Bootfs()
	var err error
	if s.Size, err = p.Size(); err != nil {
		s.SizeErr = true
	}
	s.Free, _ = p.Free()
	s.Version, _ = p.Version()
	for _, c := range checks {
		if s.States == nil {
			s.States = map[string]FeatureState{}
		}
		s.States[c] = p.Feature(c)
	}
	return s
}

func TestParseProperties(t *testing.T) {
	checks := []string{"lz4_compress", "async_destroy", "head_errlog", "no_such_feature"}
	otus := propsSummary{
		Pool: "otus", Count: 70, Health: "ONLINE", Version: 0, Features: 39,
		States: map[string]FeatureState{"lz4_compress": FeatureActive, "async_destroy": FeatureEnabled, "head_errlog": FeatureDisabled, "no_such_feature": ""},
	}
	otusHuman := otus
	otusHuman.SizeErr = true // "480M" without -p is not a byte count
	otusExact := otus
	otusExact.Size, otusExact.Free = 503316480, 501122048

	tests := []struct {
		file string
		want []propsSummary
	}{
		{"zpool-get-all-openzfs-2.2-linux.txt", []propsSummary{otusHuman}},
		{"zpool-get-Hp-variant-otus.txt", []propsSummary{otusExact}},
		{"zpool-get-Hp-variant-freebsd14-two-pools.txt", []propsSummary{{
			Pool: "tank", Count: 71, Health: "ONLINE", Compatibility: []string{"openzfs-2.0-freebsd", "grub2"},
			Size: 3985729650688, Free: 1739461312512, Features: 39,
			States: map[string]FeatureState{"lz4_compress": FeatureActive, "async_destroy": FeatureEnabled, "head_errlog": FeatureDisabled, "no_such_feature": ""},
		}, {
			Pool: "zroot", Count: 70, Health: "ONLINE", Bootfs: "zroot/ROOT/default", HasBootfs: true,
			Size: 248034361344, Free: 201766133760, Features: 39,
			States: map[string]FeatureState{"lz4_compress": FeatureActive, "async_destroy": FeatureEnabled, "head_errlog": FeatureDisabled, "no_such_feature": ""},
		}}},
		{"zpool-get-Hp-variant-legacy-v28.txt", []propsSummary{{
			Pool: "oldpool", Count: 27, Health: "ONLINE", Bootfs: "oldpool/ROOT/8.4", HasBootfs: true,
			Size: 1992864825344, Free: 1500000000000, Version: 28,
			States: map[string]FeatureState{"lz4_compress": "", "async_destroy": "", "head_errlog": "", "no_such_feature": ""},
		}}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			pools, err := ParseProperties(readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var got []propsSummary
			for _, p := range pools {
				got = append(got, summarizeProps(p, checks))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, f := range fixtures(t, "zpool-get-") {
		if !seen[f] {
			t.Errorf("testdata/%s has no expectation", f)
		}
	}
}

func TestPropertiesValues(t *testing.T) {
	pools, err := ParseProperties(readFixture(t, "zpool-get-Hp-variant-freebsd14-two-pools.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tank := pools[0]
	for name, want := range map[string]Property{
		"comment":           {"rack 4, shelf 2", "local"},
		"org.example:owner": {"storage team", "local"},
		"bootfs":            {"-", "default"},
	} {
		if got, ok := tank.Values[name]; !ok || got != want {
			t.Errorf("Values[%q] = %v, %v; want %v", name, got, ok, want)
		}
	}
	if _, ok := tank.Values["nonexistent"]; ok {
		t.Error("Values[nonexistent] found something")
	}
}

func TestPropertiesAccessors(t *testing.T) {
	tests := []struct {
		name       string
		values     map[string]string
		compat     []string
		version    int
		versionErr bool
		sizeErr    bool
		bootfs     string
	}{
		{name: "compatibility legacy", values: map[string]string{"compatibility": "legacy", "version": "-", "size": "1"}, compat: []string{"legacy"}},
		{name: "compatibility off", values: map[string]string{"compatibility": "off", "version": "-", "size": "1"}},
		{name: "one file", values: map[string]string{"compatibility": "openzfs-2.1-freebsd", "version": "-", "size": "1"}, compat: []string{"openzfs-2.1-freebsd"}},
		{name: "no version property", values: map[string]string{"size": "1"}, versionErr: true},
		{name: "garbage version", values: map[string]string{"version": "x", "size": "1"}, versionErr: true},
		{name: "legacy 15", values: map[string]string{"version": "15", "size": "1", "bootfs": "zroot"}, version: 15, bootfs: "zroot"},
		{name: "no size", values: map[string]string{"version": "-"}, sizeErr: true},
		{name: "human size", values: map[string]string{"version": "-", "size": "1.2T"}, sizeErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Properties{Pool: "p", Values: map[string]Property{}}
			for k, v := range tt.values {
				p.Values[k] = Property{Value: v, Source: "local"}
			}
			if got := p.Compatibility(); !cmp.Equal(got, tt.compat) {
				t.Errorf("Compatibility = %q, want %q", got, tt.compat)
			}
			v, err := p.Version()
			if (err != nil) != tt.versionErr || v != tt.version {
				t.Errorf("Version = %d, %v", v, err)
			}
			if _, err := p.Size(); (err != nil) != tt.sizeErr {
				t.Errorf("Size error = %v", err)
			}
			if got, _ := p.Bootfs(); got != tt.bootfs {
				t.Errorf("Bootfs = %q", got)
			}
		})
	}
}

func TestParsePropertiesErrors(t *testing.T) {
	tests := []struct {
		name string
		out  string
		line int
	}{
		{"three fields", "zroot\tsize\t1\n", 1},
		{"spaces instead of tabs", "zroot\tsize\t1\t-\nzroot  free  1  -\n", 2},
		{"bad feature state", "zroot\tfeature@lz4_compress\ton\tlocal\n", 1},
		{"empty feature name", "zroot\tfeature@\tenabled\tlocal\n", 1},
		{"duplicate", "zroot\tsize\t1\t-\nzroot\tsize\t2\t-\n", 2},
		{"empty pool", "\tsize\t1\t-\n", 1},
		{"column line too short", "NAME   PROPERTY  VALUE  SOURCE\nzroot  size\n", 2},
		{"column misaligned", "NAME   PROPERTY  VALUE  SOURCE\nzroot  sizeXXXXX1      -\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseProperties(tt.out)
			wantParseError(t, err, PropertiesCommand, tt.line)
		})
	}
	pools, err := ParseProperties("")
	if err != nil || pools != nil {
		t.Errorf("empty output: %v, %v", pools, err)
	}
}

func FuzzParseProperties(f *testing.F) {
	for _, name := range fixtures(f, "zpool-get-") {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, out string) {
		pools, err := ParseProperties(out)
		if err != nil {
			requireParseError(t, err)
			return
		}
		for _, p := range pools {
			if p.Pool == "" || strings.Contains(p.Pool, "\t") {
				t.Fatalf("bad pool name %q", p.Pool)
			}
			for name, st := range p.Features() {
				if name == "" || (st != FeatureDisabled && st != FeatureEnabled && st != FeatureActive) {
					t.Fatalf("feature %q = %q", name, st)
				}
			}
		}
	})
}
