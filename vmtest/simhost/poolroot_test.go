// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"strings"
	"testing"
)

// TestPoolRootDataset: bsdinstall's pool root dataset is mounted at
// /POOL (zfsboot sets mountpoint=/zroot on it, canmount and readonly
// stay at their defaults) and zfs get says so; with canmount=off or
// mountpoint=none it is not mounted, so df names the boot environment for
// /zroot; readonly=on is reported as set.
func TestPoolRootDataset(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.3-RELEASE"})
	if got := tm.must("zfs", "get", "-H", "-o", "property,value", "mountpoint,canmount,readonly", "zroot"); got != "mountpoint\t/zroot\ncanmount\ton\nreadonly\toff\n" {
		t.Errorf("zfs get of the pool root dataset:\n%s", got)
	}
	df := func() string {
		lines := strings.Split(strings.TrimSpace(tm.must("df", "-k", "/zroot")), "\n")
		f := strings.Fields(lines[len(lines)-1])
		return f[0] + " " + f[5]
	}
	if got := df(); got != "zroot /zroot" {
		t.Errorf("df -k /zroot: %s", got)
	}
	for _, c := range []struct {
		set  func(*Dataset)
		want string
	}{
		{func(d *Dataset) { d.Canmount = "off" }, "zroot/ROOT/default /"},
		{func(d *Dataset) { d.Mountpoint = "none" }, "zroot/ROOT/default /"},
		{func(d *Dataset) { d.Readonly = true }, "zroot /zroot"},
	} {
		if err := tm.Update(func(m *Model) error {
			_, d := m.dataset("zroot")
			*d = Dataset{Name: d.Name, Mountpoint: "/zroot", Canmount: "on", Version: d.Version, Created: d.Created, Used: d.Used}
			c.set(d)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got := df(); got != c.want {
			t.Errorf("df -k /zroot: %s, want %s", got, c.want)
		}
	}
	if got := tm.must("zfs", "get", "-H", "-o", "value", "readonly", "zroot"); got != "on\n" {
		t.Errorf("zfs get readonly of a readonly dataset: %q", got)
	}
}
