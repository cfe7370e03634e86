// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// textLayout builds a Layout from a testdata archive's gpart list member and,
// when the archive has one and withLabels is set, its glabel status member.
func textLayout(t *testing.T, archive string, withLabels bool) *Layout {
	t.Helper()
	glabel := ""
	if withLabels {
		glabel = testOutput(t, archive, "glabel status")
	}
	l, err := layoutFromText(testOutput(t, archive, "gpart list"), glabel)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// layoutFromText builds a Layout from the outputs of `gpart list` and
// `glabel status` (which may be empty when it was not run).
func layoutFromText(gpartList, glabelStatus string) (*Layout, error) {
	geoms, err := ParseList(gpartList)
	if err != nil {
		return nil, err
	}
	labels, err := ParseGlabelStatus(glabelStatus)
	if err != nil {
		return nil, err
	}
	return &Layout{Geoms: geoms, Labels: labels}, nil
}

func TestLayoutFromTextErrors(t *testing.T) {
	list := testOutput(t, "gpart-list-bios-bsdinstall-da0.txtar", "gpart list da0")
	if _, err := layoutFromText("Geom name: da0\nbogus\n", ""); err == nil {
		t.Error("bad gpart list: no error")
	}
	_, err := layoutFromText(list, "gpt/zfs0 ada0p3\n")
	wantParseError(t, err, "glabel status", 1)
}

func TestLayoutLookups(t *testing.T) {
	l := textLayout(t, "gpart-list-mirror-crossed-labels.txtar", true)
	if _, ok := l.Geom("ada1"); !ok {
		t.Fatal("no geom ada1")
	}
	if p, _, ok := l.Partition("ada1p4"); !ok || p.Index != 4 || p.Label != "zfs0" {
		t.Errorf("Partition(ada1p4) = %+v, %v", p, ok)
	}
	if _, _, ok := l.Partition("ada1p5"); ok {
		t.Error("Partition(ada1p5) found")
	}
	if _, ok := l.Geom("ada2"); ok {
		t.Error("Geom(ada2) found")
	}
	want := []string{"/dev/ada0p1", "/dev/gpt/efiboot0", "/dev/msdosfs/EFISYS"}
	if diff := cmp.Diff(want, l.DevicePaths("ada0p1")); diff != "" {
		t.Errorf("DevicePaths (-want +got):\n%s", diff)
	}
	if dg, ok := l.DiskGeom("ada9"); ok {
		t.Errorf("DiskGeom(ada9) = %+v", dg)
	}
}

func TestResolveMember(t *testing.T) {
	mirror := textLayout(t, "gpart-list-mirror-crossed-labels.txtar", true)
	mirrorNoLabels := textLayout(t, "gpart-list-mirror-crossed-labels.txtar", false)
	nested := textLayout(t, "gpart-list-mbr-bsd-nested.txtar", false)
	diskid := textLayout(t, "gpart-list-diskid.txtar", false)
	diskidLabelled := textLayout(t, "gpart-list-diskid.txtar", false)
	diskidLabelled.Labels = []Label{{Name: "diskid/DISK-Y39B70RTK7AS", Status: "N/A", Component: "ada0"}}
	handmade := textLayout(t, "gpart-list-handmade-nvd-vtbd.txtar", false)

	tests := []struct {
		name      string
		layout    *Layout
		member    string
		partition string
		geom      string
		diskGeom  string
		disks     []string
		steps     int
	}{
		{"crossed label zfs0 lives on ada1", mirror, "gpt/zfs0", "ada1p4", "ada1", "ada1", []string{"ada1"}, 1},
		{"crossed label zfs1 lives on ada0", mirror, "gpt/zfs1", "ada0p4", "ada0", "ada0", []string{"ada0"}, 1},
		{"crossed label without glabel status", mirrorNoLabels, "gpt/zfs0", "ada1p4", "ada1", "ada1", []string{"ada1"}, 1},
		{"dev path of a label", mirror, "/dev/gpt/zfs0", "ada1p4", "ada1", "ada1", []string{"ada1"}, 1},
		{"plain provider", mirror, "ada0p4", "ada0p4", "ada0", "ada0", []string{"ada0"}, 0},
		{"dev path of a provider", mirror, "/dev/ada1p4", "ada1p4", "ada1", "ada1", []string{"ada1"}, 0},
		{"GELI on a label", mirror, "gpt/zfs0.eli", "ada1p4", "ada1", "ada1", []string{"ada1"}, 2},
		{"GELI on a provider", mirror, "ada0p4.eli", "ada0p4", "ada0", "ada0", []string{"ada0"}, 1},
		{"missing member by GUID and former label", mirror, "9104698428201665404 was /dev/gpt/zfs0", "ada1p4", "ada1", "ada1", []string{"ada1"}, 1},
		{"missing member by GUID and former provider", mirror, "316502962686821739 was /dev/ada0p4", "ada0p4", "ada0", "ada0", []string{"ada0"}, 0},
		{"gptid through glabel status", mirror, "gptid/0f21ddb6-d3ac-11e9-87f2-0cc47a3b5d10", "ada1p2", "ada1", "ada1", []string{"ada1"}, 1},
		{"gptid through rawuuid, other case", mirror, "gptid/36F675CC-0999-11E1-9B6B-0CC47A3B5D10", "ada0p4", "ada0", "ada0", []string{"ada0"}, 1},
		{"BSD label in an MBR slice", nested, "ada0s1a", "ada0s1a", "ada0s1", "ada0", []string{"ada0"}, 0},
		{"diskid-named partition", diskid, "diskid/DISK-Y39B70RTK7ASp3", "diskid/DISK-Y39B70RTK7ASp3", "diskid/DISK-Y39B70RTK7AS", "diskid/DISK-Y39B70RTK7AS", []string{"diskid/DISK-Y39B70RTK7AS"}, 0},
		{"diskid label followed to the disk", diskidLabelled, "diskid/DISK-Y39B70RTK7ASp3", "diskid/DISK-Y39B70RTK7ASp3", "diskid/DISK-Y39B70RTK7AS", "diskid/DISK-Y39B70RTK7AS", []string{"ada0"}, 0},
		{"hand-made nvd0 with empty labels", handmade, "nvd0p3", "nvd0p3", "nvd0", "nvd0", []string{"nvd0"}, 0},
		{"virtio disk label", handmade, "gpt/zfs0", "vtbd0p3", "vtbd0", "vtbd0", []string{"vtbd0"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.layout.ResolveMember(tt.member)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{m.Name, m.Partition.Name, m.Geom, m.DiskGeom}
			want := []string{tt.member, tt.partition, tt.geom, tt.diskGeom}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("name, partition, geom, disk geom (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.disks, m.Disks); diff != "" {
				t.Errorf("disks (-want +got):\n%s", diff)
			}
			if len(m.Steps) != tt.steps {
				t.Errorf("steps = %q, want %d of them", m.Steps, tt.steps)
			}
		})
	}
}

func TestResolveMemberErrors(t *testing.T) {
	mirror := textLayout(t, "gpart-list-mirror-crossed-labels.txtar", true)

	// Two partitions carry the label zfs0, as after copying a table with
	// gpart backup | gpart restore -l.
	dup := textLayout(t, "gpart-list-mirror-crossed-labels.txtar", false)
	dup.Geoms[0].Partitions[3].Label = "zfs0"
	crossedGlabel := &Layout{Geoms: mirror.Geoms, Labels: []Label{
		{Name: "gpt/zfs0", Component: "ada0p4"}, {Name: "gpt/zfs0", Component: "ada1p4"},
	}}

	tests := []struct {
		name   string
		layout *Layout
		member string
		reason string
	}{
		{"GUID without a former path", mirror, "316502962686821739", "only its GUID"},
		{"malformed was", mirror, "disk was /dev/ada0p4", "<guid> was <path>"},
		{"unknown label", mirror, "gpt/zfs9", `no partition has the GPT label of "gpt/zfs9"`},
		{"unknown gptid", mirror, "gptid/00000000-0000-0000-0000-000000000000", "raw UUID"},
		{"unknown provider", mirror, "ada2p3", `no partition, label or GEOM provider named "ada2p3"`},
		{"whole disk", mirror, "ada0", "whole disk"},
		{"whole disk by dev path", mirror, "/dev/ada1", "whole disk"},
		{"empty", mirror, "  ", "empty name"},
		{"duplicate GPT labels without glabel status", dup, "gpt/zfs0", `several partitions ("ada0p4", "ada1p4")`},
		{"label listed on two providers", crossedGlabel, "gpt/zfs0", "several providers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.layout.ResolveMember(tt.member)
			var me *MemberError
			if !errors.As(err, &me) {
				t.Fatalf("error = %v, want *MemberError", err)
			}
			if me.Member != tt.member || !strings.Contains(err.Error(), tt.member) {
				t.Errorf("error %q does not name member %q", err, tt.member)
			}
			if !strings.Contains(me.Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", me.Reason, tt.reason)
			}
		})
	}

	// With glabel status, the duplicate is settled by the kernel's choice.
	dup.Labels = []Label{{Name: "gpt/zfs0", Status: "N/A", Component: "ada1p4"}}
	m, err := dup.ResolveMember("gpt/zfs0")
	if err != nil || m.Partition.Name != "ada1p4" {
		t.Errorf("with glabel status: %v, %v; want ada1p4", m.Partition.Name, err)
	}
}
