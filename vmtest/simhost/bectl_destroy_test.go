// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"strings"
	"testing"
)

// TestBectlDestroyOldBootEnv: the old boot environment can be destroyed
// once another is activated for good, as zupgrade finalize does after a
// staged upgrade: be_activate promoted the new one, so the old one is the
// clone, and its origin snapshot (an automatic name) goes with it.
func TestBectlDestroyOldBootEnv(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	tm.mustOK("", "bectl", "create", "new")
	tm.mustOK("", "bectl", "activate", "new")
	_, nd := tm.model().dataset("zroot/ROOT/new")
	if nd.Origin != "" || len(nd.Snapshots) != 1 {
		t.Fatalf("after bectl activate new is not promoted: origin %q, snapshots %v", nd.Origin, nd.Snapshots)
	}
	_, od := tm.model().dataset("zroot/ROOT/default")
	if want := "zroot/ROOT/new@" + nd.Snapshots[0].Name; od.Origin != want {
		t.Fatalf("after the promotion default's origin is %q, want %q", od.Origin, want)
	}
	if r := tm.run("bectl", "destroy", "default"); r.code != 5 || r.err != "cannot destroy active boot environment\n" {
		t.Errorf("destroying the running boot environment: %v", r)
	}
	tm.reboot(BootOptions{})
	if got := tm.must("kenv", "-q", "vfs.root.mountfrom"); got != "zfs:zroot/ROOT/new\n" {
		t.Fatalf("after bectl activate the root is %q", got)
	}
	if r := tm.run("bectl", "destroy", "nosuch"); r.code != 3 || r.err != "specified boot environment does not exist\n" {
		t.Errorf("destroying a boot environment that does not exist: %v", r)
	}
	tm.mustOK("", "bectl", "destroy", "default")
	if list := tm.must("bectl", "list", "-H"); strings.Contains(list, "default\t") {
		t.Errorf("bectl list -H after destroy:\n%s", list)
	}
	if _, nd := tm.model().dataset("zroot/ROOT/new"); len(nd.Snapshots) != 0 {
		t.Errorf("the origin snapshot was left: %v", nd.Snapshots)
	}
	tm.reboot(BootOptions{})
	if got := tm.must("freebsd-version", "-k"); got != "14.2-RELEASE\n" {
		t.Errorf("after the destroy the host boots %q", got)
	}
}

// TestBectlDestroyWithClones: a boot environment another was cloned from
// (it was running when the other was made, and was never promoted away)
// cannot be destroyed: zfs_destroy refuses its snapshot.
func TestBectlDestroyWithClones(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	tm.mustOK("", "bectl", "create", "a")
	tm.mustOK("", "bectl", "activate", "-t", "a")
	tm.reboot(BootOptions{})
	tm.mustOK("", "bectl", "create", "b")
	tm.reboot(BootOptions{})
	if got := tm.must("kenv", "-q", "vfs.root.mountfrom"); got != "zfs:zroot/ROOT/default\n" {
		t.Fatalf("the one-time activation lasted: root %q", got)
	}
	if r := tm.run("bectl", "destroy", "a"); r.code != 19 || r.err != "unknown error\n" {
		t.Errorf("destroying a boot environment with a clone: %v", r)
	}
	tm.mustOK("", "bectl", "destroy", "b")
	tm.mustOK("", "bectl", "destroy", "a")
	if list := tm.must("bectl", "list", "-H"); strings.Count(list, "\n") != 1 {
		t.Errorf("bectl list -H after destroying both:\n%s", list)
	}
}
