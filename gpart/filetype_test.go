// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseFileS(t *testing.T) {
	const member = "file -s /dev/ada0p1 /dev/ada1p1 /dev/da2p1 /dev/nvd0p1 /dev/ada0p2 /dev/ada9p1"
	got, err := ParseFileS(testOutput(t, "file-s-esps.txtar", member))
	if err != nil {
		t.Fatal(err)
	}
	type verdict struct {
		Path    string
		Content Content
		Bits    int
	}
	var gotV []verdict
	for _, r := range got {
		gotV = append(gotV, verdict{r.Path, r.Content, r.FATBits})
		if r.Description == "" || strings.HasPrefix(r.Description, " ") {
			t.Errorf("%s: description %q", r.Path, r.Description)
		}
	}
	want := []verdict{
		{"/dev/ada0p1", ContentFAT, 32},
		{"/dev/ada1p1", ContentNoFileSystem, 0},
		{"/dev/da2p1", ContentFAT, 12},
		{"/dev/nvd0p1", ContentFAT, 32},
		{"/dev/ada0p2", ContentOther, 0},
		{"/dev/ada9p1", ContentUnreadable, 0},
	}
	if diff := cmp.Diff(want, gotV); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got[1].Description != "data" {
		t.Errorf("padded description = %q, want %q", got[1].Description, "data")
	}
}

func TestClassifyFileDescription(t *testing.T) {
	tests := []struct {
		desc string
		want Content
		bits int
	}{
		{`x86 boot sector, code offset 0x58, OEM-ID "BSD  4.4", sectors/cluster 8, FAT (32 bit), sectors/FAT 520`, ContentFAT, 32},
		{`DOS/MBR boot sector, code offset 0x3c+2, OEM-ID "BSD  4.4", root entries 512, FAT (16 bit)`, ContentFAT, 16},
		{`DOS/MBR boot sector, code offset 0x58+2, OEM-ID "BSD  4.4", sectors/cluster 8, Media descriptor 0xf8`, ContentFAT, 0},
		{`DOS/MBR boot sector; partition 1 : ID=0xee, start-CHS (0x0,0,2), end-CHS (0x3ff,255,63), startsector 1`, ContentOther, 0},
		{`DOS/MBR boot sector, code offset 0x58+2, OEM-ID "NTFS    "`, ContentOther, 0},
		{"empty", ContentNoFileSystem, 0},
		{"data", ContentNoFileSystem, 0},
		{"Unix Fast File system [v2] (little-endian)", ContentOther, 0},
		{"writable, no read permission", ContentUnreadable, 0},
		{"FAT (32 bit) mentioned without a boot sector", ContentOther, 0},
	}
	for _, tt := range tests {
		c, bits := classifyFileDescription(tt.desc)
		if c != tt.want || bits != tt.bits {
			t.Errorf("classify(%q) = %v/%d, want %v/%d", tt.desc, c, bits, tt.want, tt.bits)
		}
	}
}

func TestParseFileSErrors(t *testing.T) {
	for _, in := range []string{"no colon here\n", ": data\n", "/dev/ada0p1:data\n"} {
		_, err := ParseFileS(in)
		wantParseError(t, err, "file -s", 1)
	}
	if diff := cmp.Diff([]string{"file", "-s", "/dev/ada0p1", "/dev/ada1p1"}, FileSArgv("/dev/ada0p1", "/dev/ada1p1")); diff != "" {
		t.Errorf("FileSArgv (-want +got):\n%s", diff)
	}
	for c, s := range map[Content]string{ContentFAT: "FAT file system", ContentNoFileSystem: "no file system", ContentUnreadable: "unreadable", ContentOther: "other content"} {
		if c.String() != s {
			t.Errorf("%d.String() = %q, want %q", c, c.String(), s)
		}
	}
}

func FuzzParseFileS(f *testing.F) {
	seedOutputs(f, "file -s")
	f.Fuzz(func(t *testing.T, in string) {
		rs, err := ParseFileS(in)
		if err != nil {
			return
		}
		for _, r := range rs {
			fat := r.Content == ContentFAT
			if r.Path == "" || (r.FATBits != 0 && !fat) || (fat && r.FATBits == 0 && !strings.Contains(r.Description, "OEM-ID")) {
				t.Fatalf("inconsistent result %+v", r)
			}
		}
	})
}
