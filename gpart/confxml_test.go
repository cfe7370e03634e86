// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseConfXML(t *testing.T) {
	tests := []struct {
		file       string
		wantGeoms  []string
		wantLabels []Label
		wantLayers []Layer
		wantDisks  []Disk
	}{
		{
			file: "kern-geom-confxml-bsdinstall-geli-zfs.xml",
			wantGeoms: []string{`ada0 GPT on ada0 (0 bytes)
  1 ada0p1 freebsd-boot gptboot0 524288
  2 ada0p2 freebsd-swap swap0 2147483648
  3 ada0p3 freebsd-zfs zfs0 509961306112`},
			wantLabels: []Label{{Name: "gpt/gptboot0", Component: "ada0p1"}},
			wantDisks: []Disk{{Name: "ada0", Ident: "S250NXAG959927J", Descr: "Samsung SSD 850 PRO 512GB",
				LunID: "50025388400c2138", MediaSize: 512110190592, SectorSize: 512}},
		},
		{
			file: "kern-geom-confxml-two-disks-geli.xml",
			wantGeoms: []string{`ada0 GPT on ada0 (500107862016 bytes)
  1 ada0p1 efi efiboot0 272629760
  2 ada0p2 freebsd-boot gptboot0 524288
  3 ada0p3 freebsd-swap swap0 2147483648
  4 ada0p4 freebsd-zfs zfs0 497686675456`, `ada1 GPT on ada1 (500107862016 bytes)
  1 ada1p1 efi efiboot1 272629760
  2 ada1p2 freebsd-boot gptboot1 524288
  3 ada1p3 freebsd-swap swap1 2147483648
  4 ada1p4 freebsd-zfs zfs1 497686675456`},
			wantLabels: []Label{
				{Name: "gpt/efiboot0", Component: "ada0p1"},
				{Name: "msdosfs/EFISYS", Component: "ada0p1"},
				{Name: "gpt/gptboot0", Component: "ada0p2"},
				{Name: "gpt/efiboot1", Component: "ada1p1"},
				{Name: "gptid/89e7d15f-cf44-11ee-aca2-00259084a1b2", Component: "ada1p2"},
			},
			wantLayers: []Layer{
				{Class: "ELI", Name: "ada0p3.eli", Underlying: []string{"ada0p3"}},
				{Class: "ELI", Name: "ada0p4.eli", Underlying: []string{"ada0p4"}},
				{Class: "ELI", Name: "ada1p3.eli", Underlying: []string{"ada1p3"}},
				{Class: "ELI", Name: "ada1p4.eli", Underlying: []string{"ada1p4"}},
			},
			wantDisks: []Disk{
				{Name: "ada0", Ident: "WD-WCC4E1AAAAAA", Descr: "WDC WD5003ABYZ-011FA0", LunID: "50014ee2b5285188", MediaSize: 500107862016, SectorSize: 512},
				{Name: "ada1", Ident: "WD-WCC4E1BBBBBB", Descr: "WDC WD5003ABYZ-011FA0", LunID: "50014ee2b59f8558", MediaSize: 500107862016, SectorSize: 512},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			l, err := ParseConfXML(testFile(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range l.Geoms {
				got = append(got, geomSummary(g))
			}
			if diff := cmp.Diff(tt.wantGeoms, got); diff != "" {
				t.Errorf("geoms (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLabels, l.Labels); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLayers, l.Layers); diff != "" {
				t.Errorf("layers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantDisks, l.Disks); diff != "" {
				t.Errorf("disks (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseConfXMLPartition checks that a partition read from the XML tree
// carries every field gpart list would show.
func TestParseConfXMLPartition(t *testing.T) {
	l, err := ParseConfXML(testFile(t, "kern-geom-confxml-bsdinstall-geli-zfs.xml"))
	if err != nil {
		t.Fatal(err)
	}
	p, g, ok := l.Partition("ada0p3")
	if !ok {
		t.Fatal("no ada0p3")
	}
	want := Partition{
		Name: "ada0p3", Index: 3, Type: "freebsd-zfs", Label: "zfs0",
		RawUUID: "504f1547-c135-11e8-bd11-7d7cd061b26f", RawType: "516e7cba-6ecf-11d6-8ff8-00022d09712b",
		Start: 4196352, End: 1000214527, Offset: 2148532224, Length: 509961306112,
		MediaSize: 509961306112, SectorSize: 512,
		EFIMedia: "HD(3,GPT,504f1547-c135-11e8-bd11-7d7cd061b26f,0x400800,0x3b5e0800)",
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if g.First != 40 || g.Last != 1000215175 || g.Entries != 128 || g.State != "OK" {
		t.Errorf("geom header = first %d last %d entries %d state %q", g.First, g.Last, g.Entries, g.State)
	}
}

func TestParseConfXMLErrors(t *testing.T) {
	good := string(testFile(t, "kern-geom-confxml-bsdinstall-geli-zfs.xml"))
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"not XML", "ada0p1 freebsd-boot\n"},
		{"truncated", good[:len(good)/2]},
		{"other root element", "<confxml><class/></confxml>"},
		{"bad index", strings.Replace(good, "<index>2</index>", "<index>two</index>", 1)},
		{"missing type", strings.Replace(good, "<type>freebsd-swap</type>", "", 1)},
		{"duplicate index", strings.Replace(good, "<index>2</index>", "<index>3</index>", 1)},
		{"bad mediasize", strings.Replace(good, "<mediasize>524288</mediasize>", "<mediasize>-1</mediasize>", 1)},
		{"no scheme", strings.Replace(good, "<scheme>GPT</scheme>", "", 1)},
		{"dangling consumer", strings.Replace(good, "<rank>2</rank>", `<rank>2</rank><consumer id="0x1"><provider ref="0xdead"/></consumer>`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfXML([]byte(tt.in))
			wantParseError(t, err, "sysctl -b kern.geom.confxml", -1)
		})
	}
}

// confxmlMirrorELI is a small GEOM tree written for the tests: a gmirror of
// two disks holding a GPT table whose zfs partition sits under GELI, and a
// label on the ESP. It keeps fuzzing fast (large seeds make the fuzzer
// spend its time minimising) while covering consumers, layers and labels.
const confxmlMirrorELI = `<mesh>
<class id="0x1"><name>DISK</name>
<geom id="0x10"><class ref="0x1"/><name>ada0</name><provider id="0x11"><geom ref="0x10"/><name>ada0</name><mediasize>21474836480</mediasize><sectorsize>512</sectorsize><config><ident>VB1</ident><descr>VBOX HARDDISK</descr></config></provider></geom>
<geom id="0x20"><class ref="0x1"/><name>ada1</name><provider id="0x21"><geom ref="0x20"/><name>ada1</name><mediasize>21474836480</mediasize><sectorsize>512</sectorsize><config><ident>VB2</ident><descr>VBOX HARDDISK</descr></config></provider></geom>
</class>
<class id="0x2"><name>MIRROR</name>
<geom id="0x30"><class ref="0x2"/><name>gm0</name><config><State>COMPLETE</State></config>
<consumer id="0x31"><geom ref="0x30"/><provider ref="0x11"/></consumer><consumer id="0x32"><geom ref="0x30"/><provider ref="0x21"/></consumer>
<provider id="0x33"><geom ref="0x30"/><name>mirror/gm0</name><mediasize>21474835968</mediasize><sectorsize>512</sectorsize></provider></geom>
</class>
<class id="0x3"><name>PART</name>
<geom id="0x40"><class ref="0x3"/><name>mirror/gm0</name><config><scheme>GPT</scheme><entries>128</entries><first>40</first><last>41942999</last><state>OK</state></config>
<consumer id="0x41"><geom ref="0x40"/><provider ref="0x33"/></consumer>
<provider id="0x44"><geom ref="0x40"/><name>mirror/gm0p3</name><mediasize>19327352832</mediasize><sectorsize>512</sectorsize><config><start>4196352</start><end>41944063</end><index>3</index><type>freebsd-zfs</type><offset>2148532224</offset><length>19327352832</length><label>zfs0</label><rawuuid>a3c1e2f0-1b2c-11ef-9a7b-080027aa0001</rawuuid></config></provider>
<provider id="0x43"><geom ref="0x40"/><name>mirror/gm0p2</name><mediasize>524288</mediasize><sectorsize>512</sectorsize><config><start>2048</start><end>3071</end><index>2</index><type>freebsd-boot</type><offset>1048576</offset><length>524288</length><label>gptboot0</label></config></provider>
<provider id="0x42"><geom ref="0x40"/><name>mirror/gm0p1</name><mediasize>1048576</mediasize><sectorsize>512</sectorsize><config><start>40</start><end>2087</end><index>1</index><type>efi</type><offset>20480</offset><length>1048576</length><label>efi &amp; boot</label><attrib>bootme</attrib></config></provider>
</geom>
</class>
<class id="0x4"><name>ELI</name>
<geom id="0x50"><class ref="0x4"/><name>mirror/gm0p3.eli</name><consumer id="0x51"><geom ref="0x50"/><provider ref="0x44"/></consumer>
<provider id="0x52"><geom ref="0x50"/><name>mirror/gm0p3.eli</name><mediasize>19327348736</mediasize><sectorsize>4096</sectorsize></provider></geom>
</class>
<class id="0x5"><name>LABEL</name>
<geom id="0x60"><class ref="0x5"/><name>mirror/gm0p1</name><consumer id="0x61"><geom ref="0x60"/><provider ref="0x42"/></consumer>
<provider id="0x62"><geom ref="0x60"/><name>gpt/efi &amp; boot</name><mediasize>1048576</mediasize></provider></geom>
</class>
</mesh>
`

func TestParseConfXMLMirror(t *testing.T) {
	l, err := ParseConfXML([]byte(confxmlMirrorELI))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range l.Geoms {
		got = append(got, geomSummary(g))
	}
	want := []string{`mirror/gm0 GPT on mirror/gm0 (21474835968 bytes)
  1 mirror/gm0p1 efi efi & boot 1048576 [bootme]
  2 mirror/gm0p2 freebsd-boot gptboot0 524288
  3 mirror/gm0p3 freebsd-zfs zfs0 19327352832`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("geoms (-want +got):\n%s", diff)
	}
	wantLayers := []Layer{
		{Class: "MIRROR", Name: "mirror/gm0", Underlying: []string{"ada0", "ada1"}},
		{Class: "ELI", Name: "mirror/gm0p3.eli", Underlying: []string{"mirror/gm0p3"}},
	}
	if diff := cmp.Diff(wantLayers, l.Layers); diff != "" {
		t.Errorf("layers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Label{{Name: "gpt/efi & boot", Component: "mirror/gm0p1"}}, l.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ada0", "ada1"}, l.PhysicalDisks("mirror/gm0p3.eli")); diff != "" {
		t.Errorf("PhysicalDisks (-want +got):\n%s", diff)
	}
}

func FuzzParseConfXML(f *testing.F) {
	// The two-disk testdata tree is left out: at 19 KB it makes the fuzzer
	// spend its time minimising instead of exploring.
	f.Add(testFile(f, "kern-geom-confxml-bsdinstall-geli-zfs.xml"))
	f.Add([]byte(confxmlMirrorELI))
	f.Fuzz(func(t *testing.T, in []byte) {
		l, err := ParseConfXML(in)
		if err != nil {
			return
		}
		for _, g := range l.Geoms {
			if g.Name == "" || g.Scheme == "" || g.Consumer.Name == "" {
				t.Fatalf("incomplete geom %+v", g)
			}
			for i, p := range g.Partitions {
				if p.Name == "" || p.Type == "" || p.Index < 1 || (i > 0 && p.Index <= g.Partitions[i-1].Index) {
					t.Fatalf("bad partition order or content in %+v", g)
				}
			}
		}
	})
}
