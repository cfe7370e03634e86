// SPDX-License-Identifier: BSD-2-Clause

package zpool

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUpgradePoolArgv(t *testing.T) {
	tests := []struct {
		pool string
		want []string
	}{
		{"zroot", []string{"zpool", "upgrade", "zroot"}},
		{"my pool", []string{"zpool", "upgrade", "my pool"}},
		{"tank-01.a:b_c", []string{"zpool", "upgrade", "tank-01.a:b_c"}},
		{"", nil},
		{"-a", nil},
		{"1tank", nil},
		{"zroot/ROOT", nil},
		{"zroot@snap", nil},
		{"zroot\n", nil},
	}
	for _, tt := range tests {
		got, err := UpgradePoolArgv(tt.pool)
		if (err != nil) != (tt.want == nil) || !cmp.Equal(got, tt.want) {
			t.Errorf("UpgradePoolArgv(%q) = %q, %v; want %q", tt.pool, got, err, tt.want)
		}
	}
}

func TestUpgradeFilesystemsArgv(t *testing.T) {
	tests := []struct {
		dataset string
		want    []string
	}{
		{"zroot", []string{"zfs", "upgrade", "-r", "zroot"}},
		{"zroot/ROOT/default", []string{"zfs", "upgrade", "-r", "zroot/ROOT/default"}},
		{"tank/old data", []string{"zfs", "upgrade", "-r", "tank/old data"}},
		{"", nil},
		{"-a", nil},
		{"/zroot", nil},
		{"zroot/", nil},
		{"zroot//ROOT", nil},
		{"zroot/ROOT@snap", nil},
		{"zroot/ROOT#bm", nil},
	}
	for _, tt := range tests {
		got, err := UpgradeFilesystemsArgv(tt.dataset)
		if (err != nil) != (tt.want == nil) || !cmp.Equal(got, tt.want) {
			t.Errorf("UpgradeFilesystemsArgv(%q) = %q, %v; want %q", tt.dataset, got, err, tt.want)
		}
	}
}
