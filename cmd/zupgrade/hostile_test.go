// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestHostileDiskName: a name the host reports (here a disk named like an
// option) never reaches a command line; plan stops with exit 2 naming it,
// before any command could take it for options.
func TestHostileDiskName(t *testing.T) {
	t.Parallel()
	h := newHost(t, simhost.Spec{Preset: "bios", Release: "14.2-RELEASE", DiskNames: []string{"ada0", "-rf"}})
	code, out := h.zupgrade(nil, "plan", "--to", "14.3-RELEASE")
	if code != ExitUsage || !strings.Contains(out, `disk "-rf"`) {
		t.Fatalf("plan on a host with a disk named -rf: exit %d\n%s", code, out)
	}
	if strings.Contains(out, "gpart bootcode") {
		t.Errorf("the plan was printed with the name in a command:\n%s", out)
	}
}
