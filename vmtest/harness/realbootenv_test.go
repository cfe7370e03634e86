// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// realBootenvScenarios are the real-OpenZFS scenarios whose run arms a
// one-time activation (bectl activate -t for a staged trial), which
// simhost's bectl hands to the guest's OpenZFS (ZFS_IOC_SET_BOOTENV) and
// the boot takes from the real labels as the loader does.
var realBootenvScenarios = map[string]bool{"staged-major": true, "staged-trial-fails": true}

// checkRealBootenv reads the bootenv area of the pool's labels from the
// golden disks and from the scenario's disks, as the loader reads it
// (simhost.ImageBootenv): zpool create left the area VB_RAW and empty;
// after the scenario every member present holds the VB_NVLIST list that
// libzfsbootenv's path wrote through the kernel, with no bootonce left:
// the trial boot took it out.
func checkRealBootenv(t *testing.T, l *zfsLab, disks []ZFSDisk) {
	t.Helper()
	for _, golden := range l.golden {
		for _, g := range golden {
			v, once, err := simhost.ImageBootenv(g.Path)
			if err != nil || v != 0 || once != "" {
				t.Errorf("the golden disk %s: bootenv version %d bootonce %q (%v), want the empty VB_RAW area zpool create leaves", g.Path, v, once, err)
			}
		}
	}
	for _, d := range disks {
		v, once, err := simhost.ImageBootenv(d.Path)
		if err != nil {
			t.Errorf("the real labels of %s: %v", d.Name, err)
			continue
		}
		if v != 1 || once != "" {
			t.Errorf("the real labels of %s: bootenv version %d bootonce %q, want version 1 (written through the kernel) and the bootonce taken by the trial boot", d.Name, v, once)
		}
	}
}
