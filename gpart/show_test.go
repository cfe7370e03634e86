// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// showSummary renders parsed tables compactly for table tests.
func showSummary(ts []ShowTable) []string {
	var out []string
	for _, t := range ts {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s %d+%d (%s)", t.Geom, t.Scheme, t.Start, t.Sectors, t.HumanSize)
		if t.Corrupt {
			b.WriteString(" CORRUPT")
		}
		for _, e := range t.Entries {
			id := e.Provider
			if id == "" {
				id = fmt.Sprint(e.Index)
			}
			typ := e.Type
			if typ == "" {
				typ = "-"
			}
			fmt.Fprintf(&b, "\n  %d+%d %s %s (%s)", e.Start, e.Sectors, id, typ, e.HumanSize)
			if len(e.Attributes) > 0 {
				fmt.Fprintf(&b, " %v", e.Attributes)
			}
		}
		out = append(out, b.String())
	}
	return out
}

func TestParseShow(t *testing.T) {
	tests := []struct {
		archive, member string
		want            []string
	}{
		{"gpart-list-bios-bsdinstall-da0.txtar", "gpart show da0", []string{`da0 GPT 34+83886013 (40G)
  34+1024 1 freebsd-boot (512K)
  1058+4194304 2 freebsd-swap (2.0G)
  4195362+79690685 3 freebsd-zfs (38G)`}},
		{"gpart-show-bios-only-mirror-sheridan.txtar", "gpart show", []string{`ada0 GPT 34+1953525101 (932G)
  40+1024 1 freebsd-boot (512K)
  1064+50331648 2 freebsd-swap (24G)
  50332712+1903192416 3 freebsd-zfs (908G)`, `ada1 GPT 34+1953525101 (932G)
  40+1024 1 freebsd-boot (512K)
  1064+50331648 2 freebsd-swap (24G)`}},
		{"gpart-show-legacy-800K-efi-bsdinstall-11.x.txtar", "gpart show da2", []string{`da2 GPT 40+976773088 (466G)
  40+1600 1 efi (800K)
  1640+1024 2 freebsd-boot (512K)
  4096+20971520 3 freebsd-swap (10G)
  20975616+955797504 4 freebsd-zfs (456G)`}},
		{"gpart-show-nda0-14.2.txtar", "gpart show", []string{`nda0 GPT 40+629145520 (300G)
  40+532480 1 efi (260M)
  532520+1024 2 freebsd-boot (512K)
  534528+436207616 3 freebsd-swap (208G)
  436742144+192401408 4 freebsd-zfs (92G)`}},
		{"gpart-show-p-uefi-bios-ada0.txtar", "gpart show -p", []string{`ada0 GPT 40+104857520 (50G)
  40+409600 ada0p1 efi (200M)
  409640+1024 ada0p2 freebsd-boot (512K)
  411648+4194304 ada0p3 freebsd-swap (2.0G)
  4605952+100249600 ada0p4 freebsd-zfs (48G)`}},
		{"gpart-show-uefi-bios-bsdinstall-260M-ada0.txtar", "gpart show", []string{`ada0 GPT 40+500118112 (238G)
  40+532480 1 efi (260M)
  532520+1024 2 freebsd-boot (512K)
  534528+4194304 3 freebsd-swap (2.0G)
  4728832+495388672 4 freebsd-zfs (236G)`}},
		{"gpart-show-uefi-only-diskid-naming.txtar", "gpart show", []string{`diskid/DISK-Y39B70RTK7AS GPT 40+3907029088 (1.8T)
  40+532480 1 efi (260M)
  534528+4194304 2 freebsd-swap (2.0G)
  4728832+536870912 3 freebsd-zfs (256G)`}},
		{"gpart-show-l-restored-null-labels.txtar", "gpart show -l ada0 ada1", []string{`ada0 GPT 40+1953525088 (932G)
  40+1024 1 gptboot1 (512K)
  2048+1953521664 2 zfs1 (932G)`, `ada1 GPT 40+1953525088 (932G)
  40+1024 1 - (512K)
  2048+1953521664 2 - (932G)`}},
	}
	for _, tt := range tests {
		t.Run(tt.archive, func(t *testing.T) {
			got, err := ParseShow(testOutput(t, tt.archive, tt.member))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, showSummary(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseShowWritten covers what the fixtures lack: MBR slices with
// attributes, nested BSD labels, a corrupt table, labels with blanks and raw
// types.
func TestParseShowWritten(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{
			name: "MBR with an active slice and a nested BSD label",
			in: `=>       63  160086465  ada0  MBR  (76G)
         63  160086465     1  freebsd  [active]  (76G)

=>        0  160086465  ada0s1  BSD  (76G)
          0         16          - free -  (8.0K)
         16  151697841       1  freebsd-zfs  (72G)
  151697857    8388608       2  freebsd-swap  (4.0G)
`,
			want: []string{`ada0 MBR 63+160086465 (76G)
  63+160086465 1 freebsd (76G) [active]`, `ada0s1 BSD 0+160086465 (76G)
  16+151697841 1 freebsd-zfs (72G)
  151697857+8388608 2 freebsd-swap (4.0G)`},
		},
		{
			name: "corrupt table, several attributes",
			in: `=>      40  41942960  vtbd0  GPT  (20G) [CORRUPT]
        40      1024      1  freebsd-boot  [bootme,bootonce]  (512K)
      1064  41941936      2  freebsd-zfs  (20G)
`,
			want: []string{`vtbd0 GPT 40+41942960 (20G) CORRUPT
  40+1024 1 freebsd-boot (512K) [bootme bootonce]
  1064+41941936 2 freebsd-zfs (20G)`},
		},
		{
			name: "-l with a label holding blanks, tabs, no leading blanks",
			in:   "=>40\t1000\tda1\tGPT\t(500K)\n40\t200\t1\tEFI system\t(100K)\n240\t800\t2\t(null)\t(400K)\n",
			want: []string{`da1 GPT 40+1000 (500K)
  40+200 1 EFI system (100K)
  240+800 2 - (400K)`},
		},
		{
			name: "-r raw types",
			in: `=>       40  104857520  ada0  GPT  (50G)
         40     409600     1  c12a7328-f81f-11d2-ba4b-00a0c93ec93b  (200M)
     409640       1024     2  83bd6b9d-7f41-11dc-be0b-001560b84f0f  (512K)
`,
			want: []string{`ada0 GPT 40+104857520 (50G)
  40+409600 1 c12a7328-f81f-11d2-ba4b-00a0c93ec93b (200M)
  409640+1024 2 83bd6b9d-7f41-11dc-be0b-001560b84f0f (512K)`},
		},
		{
			name: "empty table",
			in:   "=>      40  41942960  vtbd1  GPT  (20G)\n        40  41942960         - free -  (20G)\n\n",
			want: []string{`vtbd1 GPT 40+41942960 (20G)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseShow(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, showSummary(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseShowErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
	}{
		{"empty", "", 0},
		{"partition before a header", "        40      1024     1  freebsd-boot  (512K)\n", 1},
		{"short header", "=>  40  1000  ada0  GPT\n", 1},
		{"header size without parentheses", "=>  40  1000  ada0  GPT  500K\n", 1},
		{"header trailing text", "=>  40  1000  ada0  GPT  (500K)  extra\n", 1},
		{"bad start", "=>  40  1000  ada0  GPT  (500K)\n  x  1024  1  freebsd-boot  (512K)\n", 2},
		{"zero index", "=>  40  1000  ada0  GPT  (500K)\n  40  1024  0  freebsd-boot  (512K)\n", 2},
		{"size without parentheses", "=>  40  1000  ada0  GPT  (500K)\n  40  1024  1  freebsd-boot  512K\n", 2},
		{"prompt line", "=>  40  1000  ada0  GPT  (500K)\n$ gpart show\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseShow(tt.in)
			wantParseError(t, err, "gpart show", tt.line)
		})
	}
}

func FuzzParseShow(f *testing.F) {
	seedOutputs(f, "gpart show")
	f.Fuzz(func(t *testing.T, in string) {
		tables, err := ParseShow(in)
		if err != nil {
			return
		}
		for _, tb := range tables {
			if tb.Geom == "" || tb.Scheme == "" {
				t.Fatalf("incomplete table %+v", tb)
			}
			for _, e := range tb.Entries {
				if (e.Index == 0) == (e.Provider == "") {
					t.Fatalf("entry needs exactly one of index and provider: %+v", e)
				}
			}
		}
	})
}
