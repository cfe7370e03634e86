// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"errors"
	"testing"

	"github.com/zupgrade/zupgrade/host"
)

func TestParseDfAvail(t *testing.T) {
	tests := []struct {
		out  string
		want uint64
	}{
		{"Filesystem  1024-blocks Used  Avail Capacity  Mounted on\n/dev/gpt/efiboot0 266176 1760 264416  1%  /boot/efi\n", 264416 * 1024},
		{"Filesystem 1024-blocks Used Avail Capacity Mounted on\n/dev/ada1p1 65536 65600 -64 101% /var/db/zupgrade/mnt/ada1p1\n", 0},
	}
	for _, tt := range tests {
		got, err := ParseDfAvail(tt.out)
		if err != nil || got != tt.want {
			t.Errorf("ParseDfAvail(%q) = %d, %v; want %d", tt.out, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "/dev/ada0p1 1 2 3 4% /x\n", "Filesystem\n/dev/ada0p1 1 2 x 4% /x\n"} {
		var pe *host.ParseError
		if _, err := ParseDfAvail(bad); !errors.As(err, &pe) {
			t.Errorf("ParseDfAvail(%q): err %v, want a parse error", bad, err)
		}
	}
}

func FuzzParseDfAvail(f *testing.F) {
	f.Add("Filesystem  1024-blocks Used  Avail Capacity  Mounted on\n/dev/gpt/efiboot0 266176 1760 264416  1%  /boot/efi\n")
	f.Fuzz(func(t *testing.T, s string) { ParseDfAvail(s) })
}
