// SPDX-License-Identifier: BSD-2-Clause

package freebsdupdate

import "testing"

// The question upgrade_guess_new_kernel asks before replacing a kernel
// configuration the new release dropped, as freebsd-update.sh prints it.
const replaceKernelScreen = "\nWARNING: This system is running a \"mykernel\" kernel, which is not a\nkernel configuration distributed as part of FreeBSD 14.2-RELEASE.\nAs part of upgrading to FreeBSD 14.2-RELEASE, this kernel will be\nreplaced with a \"generic\" kernel.\nDoes this look reasonable (y/n)? "

func TestUpgradeDialogReplacingKernel(t *testing.T) {
	components := "The following components of FreeBSD seem to be installed:\nkernel/mykernel world/base\n\nDoes this look reasonable (y/n)? "
	for _, tt := range []struct {
		yes          bool
		screen, want string
	}{
		{false, replaceKernelScreen, "n\n"},
		{true, replaceKernelScreen, "y\n"},
		{false, components, "y\n"},
		{false, "Fetching metadata index... done.\n", ""},
	} {
		if got, stop := UpgradeDialog(tt.yes)(tt.screen); got != tt.want || stop {
			t.Errorf("UpgradeDialog(%v)(%q) = %q, %v; want %q", tt.yes, tt.screen, got, stop, tt.want)
		}
	}
}

func TestClassifyKernelReplacementDeclined(t *testing.T) {
	out := "Inspecting system... done.\n" + replaceKernelScreen + "n\n"
	o := ClassifyFetch([]byte(out), nil, 1)
	if o.OK() || !o.CustomKernelReplaced || o.CustomKernel != "mykernel" || o.CustomKernelNotUpdated {
		t.Errorf("declined replacement: %+v", o)
	}
}
