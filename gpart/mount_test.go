// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMountP(t *testing.T) {
	ms, err := ParseMountP(testOutput(t, "mount-p-zfs-root-esp-mounted.txtar", "mount -p"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 11 {
		t.Fatalf("got %d mounts, want 11", len(ms))
	}
	want := Mount{Device: "zroot/ROOT/default", MountPoint: "/", FSType: "zfs", Options: []string{"rw", "noatime", "nfsv4acls"}}
	if diff := cmp.Diff(want, ms[0]); diff != "" {
		t.Errorf("first mount (-want +got):\n%s", diff)
	}
	esp := Mount{Device: "/dev/gpt/efiboot0", MountPoint: "/boot/efi", FSType: "msdosfs", Options: []string{"rw"}, Dump: 2, Pass: 2}
	usb := Mount{Device: "/dev/da0s1", MountPoint: "/media/usb", FSType: "msdosfs", Options: []string{"ro", "noexec"}}
	if diff := cmp.Diff(Mounts{esp, usb}, ms.MSDOS()); diff != "" {
		t.Errorf("MSDOS() (-want +got):\n%s", diff)
	}

	// The ESP of ada0 is mounted through its GPT label; that of ada1 is not
	// mounted; the USB stick is no ESP of either disk.
	l := textLayout(t, "gpart-list-mirror-crossed-labels.txtar", true)
	tests := []struct {
		provider string
		want     string
	}{
		{"ada0p1", "/boot/efi"},
		{"/dev/ada0p1", "/boot/efi"},
		{"ada1p1", ""},
		{"da0s1", "/media/usb"},
	}
	for _, tt := range tests {
		m, ok := ms.OfProvider(l, tt.provider)
		if got := m.MountPoint; got != tt.want || ok != (tt.want != "") {
			t.Errorf("OfProvider(%q) = %q, %v; want %q", tt.provider, got, ok, tt.want)
		}
	}
}

func TestParseMountPVariants(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Mounts
	}{
		{
			name: "single blank after a long device name, stacked mounts",
			in:   "zroot/ROOT/14.2-RELEASE_2025-01-10 / zfs rw,noatime 0 0\n/dev/ada0p2\t\t/\t\t\tufs\tro\t1 1\n",
			want: Mounts{
				{Device: "zroot/ROOT/14.2-RELEASE_2025-01-10", MountPoint: "/", FSType: "zfs", Options: []string{"rw", "noatime"}},
				{Device: "/dev/ada0p2", MountPoint: "/", FSType: "ufs", Options: []string{"ro"}, Dump: 1, Pass: 1},
			},
		},
		{name: "empty", in: "\n", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMountP(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseMountPErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
	}{
		{"mount point with a blank", "zroot/data\t/mnt/my data\tzfs\trw\t0 0\n", 1},
		{"plain mount output", "zroot/ROOT/default on / (zfs, local, noatime, nfsv4acls)\n", 1},
		{"pass not a number", "devfs\t/dev\tdevfs\trw\t0 x\n", 1},
		{"second line short", "devfs\t/dev\tdevfs\trw\t0 0\nprocfs /proc procfs rw\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMountP(tt.in)
			wantParseError(t, err, "mount -p", tt.line)
		})
	}
}

func FuzzParseMountP(f *testing.F) {
	seedOutputs(f, "mount -p")
	f.Fuzz(func(t *testing.T, in string) {
		ms, err := ParseMountP(in)
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.Device == "" || m.MountPoint == "" || m.FSType == "" || len(m.Options) == 0 || m.Dump < 0 || m.Pass < 0 {
				t.Fatalf("bad mount %+v", m)
			}
		}
	})
}
