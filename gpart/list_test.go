// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// geomSummary renders a geom on one line per partition so that table tests
// can state a whole layout compactly.
func geomSummary(g Geom) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s on %s (%d bytes)", g.Name, g.Scheme, g.Consumer.Name, g.Consumer.MediaSize)
	for _, p := range g.Partitions {
		label := p.Label
		if label == "" {
			label = "-"
		}
		fmt.Fprintf(&b, "\n  %d %s %s %s %d", p.Index, p.Name, p.Type, label, p.Size())
		if len(p.Attributes) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(p.Attributes, ","))
		}
	}
	return b.String()
}

func TestParseList(t *testing.T) {
	tests := []struct {
		archive, member string
		want            []string
	}{
		{
			archive: "gpart-list-bios-bsdinstall-da0.txtar", member: "gpart list da0",
			want: []string{`da0 GPT on da0 (42949672960 bytes)
  1 da0p1 freebsd-boot gptboot0 524288
  2 da0p2 freebsd-swap swap0 2147483648
  3 da0p3 freebsd-zfs zfs0 40801630720`},
		},
		{
			archive: "gpart-list-efi-partition-efiboot0-fragment.txtar", member: "gpart list",
			want: []string{`ada0 GPT on ada0 (0 bytes)
  1 ada0p1 efi efiboot0 209715200`},
		},
		{
			archive: "gpart-list-mirror-crossed-labels.txtar", member: "gpart list",
			want: []string{`ada0 GPT on ada0 (500107862016 bytes)
  1 ada0p1 efi efiboot0 272629760
  2 ada0p2 freebsd-boot gptboot0 524288
  3 ada0p3 freebsd-swap swap0 2147483648
  4 ada0p4 freebsd-zfs zfs1 497686675456`, `ada1 GPT on ada1 (500107862016 bytes)
  1 ada1p1 efi efiboot1 272629760
  2 ada1p2 freebsd-boot gptboot1 524288
  3 ada1p3 freebsd-swap swap1 2147483648
  4 ada1p4 freebsd-zfs zfs0 497686675456`},
		},
		{
			archive: "gpart-list-handmade-nvd-vtbd.txtar", member: "gpart list",
			want: []string{`nvd0 GPT on nvd0 (256060514304 bytes)
  1 nvd0p1 efi - 209715200
  2 nvd0p2 freebsd-swap - 8589934592
  3 nvd0p3 freebsd-zfs - 247257366528
  4 nvd0p4 freebsd-boot - 524288`, `vtbd0 GPT on vtbd0 (21474836480 bytes)
  1 vtbd0p1 freebsd-boot gptboot0 524288
  2 vtbd0p2 freebsd-swap swap0 1073741824
  3 vtbd0p3 freebsd-zfs zfs0 20398997504`},
		},
		{
			archive: "gpart-list-mbr-bsd-nested.txtar", member: "gpart list",
			want: []string{`ada0 MBR on ada0 (81964302336 bytes)
  1 ada0s1 freebsd - 81964270080 [active]`, `ada0s1 BSD on ada0s1 (81964270080 bytes)
  1 ada0s1a freebsd-zfs - 77669294592
  2 ada0s1b freebsd-swap - 4294967296`},
		},
		{
			archive: "gpart-list-diskid.txtar", member: "gpart list",
			want: []string{`diskid/DISK-Y39B70RTK7AS GPT on diskid/DISK-Y39B70RTK7AS (2000398934016 bytes)
  1 diskid/DISK-Y39B70RTK7ASp1 efi efiboot0 272629760
  2 diskid/DISK-Y39B70RTK7ASp2 freebsd-swap swap0 2147483648
  3 diskid/DISK-Y39B70RTK7ASp3 freebsd-zfs zfs0 274877906944`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.archive, func(t *testing.T) {
			geoms, err := ParseList(testOutput(t, tt.archive, tt.member))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range geoms {
				got = append(got, geomSummary(g))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseList summary (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseListFields checks every field of one partition of the older-gpart
// fixture (no efimedia) and one of a 14.x-style listing.
func TestParseListFields(t *testing.T) {
	tests := []struct {
		archive, member, provider string
		want                      Partition
		wantGeom                  Geom
	}{
		{
			archive: "gpart-list-bios-bsdinstall-da0.txtar", member: "gpart list da0", provider: "da0p1",
			want: Partition{
				Name: "da0p1", Index: 1, Type: "freebsd-boot", Label: "gptboot0",
				RawUUID: "915407d2-9ce6-11e4-8a30-000c29fa5c3e", RawType: "83bd6b9d-7f41-11dc-be0b-001560b84f0f",
				Start: 34, End: 1057, Offset: 17408, Length: 524288, MediaSize: 524288, SectorSize: 512,
			},
			wantGeom: Geom{Name: "da0", Scheme: "GPT", State: "OK", First: 34, Last: 83886046, Entries: 128,
				Consumer: Consumer{Name: "da0", MediaSize: 42949672960, SectorSize: 512}},
		},
		{
			archive: "gpart-list-efi-partition-efiboot0-fragment.txtar", member: "gpart list", provider: "ada0p1",
			want: Partition{
				Name: "ada0p1", Index: 1, Type: "efi", Label: "efiboot0",
				RawUUID: "abb52720-44c0-11ea-a4dc-0025902dffd4", RawType: "c12a7328-f81f-11d2-ba4b-00a0c93ec93b",
				Start: 40, End: 409639, Offset: 20480, Length: 209715200, MediaSize: 209715200, SectorSize: 512,
				EFIMedia: "HD(1,GPT,abb52720-44c0-11ea-a4dc-0025902dffd4,0x28,0x64000)",
			},
			wantGeom: Geom{Name: "ada0", Scheme: "GPT", State: "OK", First: 40, Last: 468862087, Entries: 152,
				Consumer: Consumer{Name: "ada0"}},
		},
		{
			archive: "gpart-list-mbr-bsd-nested.txtar", member: "gpart list", provider: "ada0s1",
			want: Partition{
				Name: "ada0s1", Index: 1, Type: "freebsd", RawType: "165",
				Start: 63, End: 160086527, Offset: 32256, Length: 81964270080, MediaSize: 81964270080, SectorSize: 512,
				EFIMedia: "HD(1,MBR,0x90909090,0x3f,0x98ab9c1)", Attributes: []string{"active"},
			},
			wantGeom: Geom{Name: "ada0", Scheme: "MBR", State: "OK", First: 63, Last: 160086527, Entries: 4,
				Consumer: Consumer{Name: "ada0", MediaSize: 81964302336, SectorSize: 512}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.archive, func(t *testing.T) {
			geoms, err := ParseList(testOutput(t, tt.archive, tt.member))
			if err != nil {
				t.Fatal(err)
			}
			l := Layout{Geoms: geoms}
			p, g, ok := l.Partition(tt.provider)
			if !ok {
				t.Fatalf("no partition %s", tt.provider)
			}
			if diff := cmp.Diff(tt.want, p); diff != "" {
				t.Errorf("partition (-want +got):\n%s", diff)
			}
			g.Partitions = nil
			if diff := cmp.Diff(tt.wantGeom, g); diff != "" {
				t.Errorf("geom (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseListVariants feeds the same listing rewritten the ways real hosts
// and copy-pasted bug reports differ, and expects the same result.
func TestParseListVariants(t *testing.T) {
	base := testOutput(t, "gpart-list-mirror-crossed-labels.txtar", "gpart list")
	want, err := ParseList(base)
	if err != nil {
		t.Fatal(err)
	}
	variants := []struct {
		name string
		edit func(string) string
	}{
		{"tabs for indentation", func(s string) string { return strings.ReplaceAll(s, "\n   ", "\n\t") }},
		{"whole output indented", func(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }},
		{"CRLF line ends", func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }},
		{"trailing spaces", func(s string) string { return strings.ReplaceAll(s, "\n", "  \n") }},
		{"no blank line between geoms", func(s string) string { return strings.ReplaceAll(s, "\n\n", "\n") }},
		{"no consumers section", func(s string) string {
			var out []string
			skip := false
			for _, l := range strings.Split(s, "\n") {
				switch {
				case l == "Consumers:":
					skip = true
				case strings.HasPrefix(l, "Geom name:"):
					skip = false
				}
				if !skip {
					out = append(out, l)
				}
			}
			return strings.Join(out, "\n")
		}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			got, err := ParseList(v.edit(base))
			if err != nil {
				t.Fatal(err)
			}
			opts := cmp.Options{}
			if v.name == "no consumers section" {
				// The consumer's name is the geom's; its sizes are not known.
				opts = append(opts, cmp.Transformer("nameOnly", func(c Consumer) string { return c.Name }))
			}
			if diff := cmp.Diff(want, got, opts); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseListErrors(t *testing.T) {
	good := testOutput(t, "gpart-list-bios-bsdinstall-da0.txtar", "gpart list da0")
	tests := []struct {
		name string
		in   string
		line int
	}{
		{"empty output", "", 0},
		{"grep of Name and efi lines", testOutput(t, "gpart-list-grep-name-efi.txtar", "gpart list | grep -Ew '(Name|efi)'"), 1},
		{"bad index", strings.Replace(good, "index: 2", "index: two", 1), 38},
		{"zero index", strings.Replace(good, "index: 2", "index: 0", 1), 38},
		{"duplicate index", strings.Replace(good, "index: 2", "index: 1", 1), 26},
		{"missing type", strings.Replace(good, "   type: freebsd-swap\n", "", 1), 26},
		{"missing index", strings.Replace(good, "   index: 3\n", "", 1), 41},
		{"bad mediasize", strings.Replace(good, "Mediasize: 524288 (512K)", "Mediasize: lots", 1), 12},
		{"bad first", strings.Replace(good, "first: 34", "first: -34", 1), 7},
		{"unknown line", strings.Replace(good, "Consumers:", "Consumers:\n... skipping", 1), 57},
		{"field outside an entry", strings.Replace(good, "Providers:\n", "Providers:\n   Mode: r0w0e0\n", 1), 11},
		{"entry outside a section", strings.Replace(good, "Providers:\n", "", 1), 10},
		{"no scheme", strings.Replace(good, "scheme: GPT\n", "", 1), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseList(tt.in)
			wantParseError(t, err, "gpart list", tt.line)
		})
	}
}

func FuzzParseList(f *testing.F) {
	seedOutputs(f, "gpart list")
	f.Fuzz(func(t *testing.T, in string) {
		geoms, err := ParseList(in)
		if err != nil {
			return
		}
		for _, g := range geoms {
			if g.Name == "" || g.Scheme == "" || g.Consumer.Name == "" {
				t.Fatalf("incomplete geom %+v", g)
			}
			seen := map[int]bool{}
			for _, p := range g.Partitions {
				if p.Name == "" || p.Type == "" || p.Index < 1 || seen[p.Index] {
					t.Fatalf("bad partition %+v in %s", p, g.Name)
				}
				seen[p.Index] = true
			}
		}
	})
}
