// SPDX-License-Identifier: BSD-2-Clause

package gpart

import "testing"

func TestFallbackLoaderName(t *testing.T) {
	tests := []struct {
		arch, name string
	}{
		{"amd64", "BOOTx64.efi"},
		{"arm64", "BOOTaa64.efi"},
		{"aarch64", "BOOTaa64.efi"},
		{"i386", "BOOTia32.efi"},
		{"riscv", "BOOTriscv64.efi"},
		{"riscv64", "BOOTriscv64.efi"},
		{"armv7", "BOOTarm.efi"},
	}
	for _, tt := range tests {
		got, err := FallbackLoaderName(tt.arch)
		if err != nil || got != tt.name {
			t.Errorf("FallbackLoaderName(%q) = %q, %v; want %q", tt.arch, got, err, tt.name)
		}
	}
	for _, arch := range []string{"powerpc64", "", "AMD64"} {
		if got, err := FallbackLoaderName(arch); err == nil {
			t.Errorf("FallbackLoaderName(%q) = %q, want an error", arch, got)
		}
	}
}
