package main

import (
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// ranFreebsdUpdate reports whether the host ran freebsd-update at all.
func (h *testHost) ranFreebsdUpdate() bool {
	h.t.Helper()
	model, err := h.m.Model()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, c := range model.History {
		if len(c.Argv) > 0 && strings.HasSuffix(c.Argv[0], "freebsd-update") {
			return true
		}
	}
	return false
}

// TestPkgbaseHost: on a packaged base freebsd-update refuses every command
// (check_pkgbase, 14.3 on). inspect and plan still work, plan blocks with
// the pkgbase explanation, and neither runs freebsd-update there.
func TestPkgbaseHost(t *testing.T) {
	for _, tt := range []struct{ rel, to string }{{"14.3-RELEASE", "15.0-RELEASE"}, {"15.0-RELEASE", ""}, {"14.2-RELEASE", "14.3-RELEASE"}} {
		t.Run(tt.rel, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, simhost.Spec{Preset: "bios", Release: tt.rel, Pkgbase: true})
			code, out := h.zupgrade(nil, "inspect")
			if code != 0 || !strings.Contains(strings.ToLower(out), "pkgbase") {
				t.Errorf("inspect on a pkgbase host: exit %d\n%s", code, out)
			}
			args := []string{"plan"}
			if tt.to != "" {
				args = append(args, "--to", tt.to)
			}
			code, out = h.zupgrade(nil, args...)
			if code != ExitBlocked || !strings.Contains(out, "[block] base system installed by freebsd-update, not packages") || !strings.Contains(out, "pkg upgrade") {
				t.Errorf("plan on a pkgbase host: exit %d\n%s", code, out)
			}
			if h.ranFreebsdUpdate() {
				t.Errorf("zupgrade ran freebsd-update on a pkgbase host")
			}
		})
	}
}
