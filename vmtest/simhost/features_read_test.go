// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"strings"
	"testing"
)

// TestLoaderReadsFeatures checks the loader's and the kernel's verdict on
// a pool's active features: a read-only compatible feature never stops
// them (OpenZFS module/zcommon/zfeature_common.c registers
// large_microzap with ZFEATURE_FLAG_READONLY_COMPAT, so it is listed in
// features_for_write, which stand/libsa/zfs/zfsimpl.c check_mos_features
// does not read), and a feature the table does not know stops the boot
// rather than passing unjudged.
func TestLoaderReadsFeatures(t *testing.T) {
	r, err := ParseRelease("15.0-RELEASE")
	if err != nil {
		t.Fatal(err)
	}
	loader, ok := parseBlob(makeBlob(BlobLoaderEFI, r, "amd64"))
	if !ok {
		t.Fatal("the 15.0 loader.efi blob does not parse")
	}
	for _, c := range []struct {
		feature string
		halts   bool
	}{
		{"large_microzap", false},
		{"fast_dedup", false},
		{"dynamic_gang_header", true},
	} {
		p := &Pool{Name: "zroot", Version: 5000, Features: map[string]string{c.feature: "active"}}
		msg := poolReadable(loader, p)
		if (msg != "") != c.halts {
			t.Errorf("loader.efi 15.0 on a pool with %s active: %q, want halt %v", c.feature, msg, c.halts)
		}
		if c.halts && !strings.Contains(msg, c.feature) {
			t.Errorf("the loader's refusal does not name %s: %q", c.feature, msg)
		}
		kmsg := kernelCanImport(r, p)
		if (kmsg != "") != c.halts {
			t.Errorf("kernel 15.0 on a pool with %s active: %q, want refusal %v", c.feature, kmsg, c.halts)
		}
	}
}
