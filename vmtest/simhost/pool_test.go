// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"os"
	"strings"
	"testing"
)

// TestZpoolUpgradeFeatures checks that zpool upgrade enables what the running
// release supports within the pool's compatibility, activating some.
func TestZpoolUpgradeFeatures(t *testing.T) {
	t.Run("enables and activates", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE", PoolRelease: "13.2-RELEASE"})
		list := tm.must("zpool", "upgrade")
		if !strings.Contains(list, "POOL  FEATURE\n---------------\nzroot\n      edonr\n      zilsaxattr\n      head_errlog\n") {
			t.Errorf("zpool upgrade listing:\n%s", list)
		}
		out := tm.must("zpool", "upgrade", "zroot")
		if !strings.Contains(out, "Enabled the following features on 'zroot':\n  edonr\n  zilsaxattr\n  head_errlog\n") || !strings.Contains(out, "Pool 'zroot' has the bootfs property set, you might need to update\nthe boot code. See gptzfsboot(8) and loader.efi(8) for details.\n") {
			t.Errorf("zpool upgrade zroot:\n%s", out)
		}
		get := tm.must("zpool", "get", "-H", "-p", "-o", "property,value", "feature@head_errlog,feature@blake3")
		if get != "feature@head_errlog\tactive\nfeature@blake3\tenabled\n" {
			t.Errorf("zpool get: %q", get)
		}
	})
	t.Run("compatibility", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE", PoolRelease: "13.1-RELEASE", Compatibility: "openzfs-2.1-freebsd"})
		out := tm.must("zpool", "upgrade", "zroot")
		if !strings.Contains(out, "Pool 'zroot' already has all supported and requested features enabled.") {
			t.Errorf("zpool upgrade with compatibility=openzfs-2.1-freebsd:\n%s", out)
		}
		if p := tm.model().pool("zroot"); p.featureState("head_errlog") != "disabled" {
			t.Errorf("head_errlog %s despite the compatibility property", p.featureState("head_errlog"))
		}
	})
	t.Run("legacy pool on feature flags", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios", Release: "10.3-RELEASE", PoolVersion: 28})
		list := tm.must("zpool", "upgrade")
		fx := fixture(t, "zpool-upgrade-noargs-legacy-v28.txt")
		if want := section(fx, "The following pools", "Every feature flags"); !strings.Contains(list, strings.ReplaceAll(want, "mypool", "zroot")) {
			t.Errorf("zpool upgrade listing:\n%s\nwant like the fixture:\n%s", list, want)
		}
		out := tm.must("zpool", "upgrade", "zroot")
		if !strings.Contains(out, "Successfully upgraded 'zroot' from version 28 to feature flags.\nEnabled the following features on 'zroot':\n  async_destroy\n  empty_bpobj\n  lz4_compress\n") {
			t.Errorf("zpool upgrade zroot:\n%s", out)
		}
	})
}

// TestOlderBootEnvironmentAfterZpoolUpgrade checks that after zpool upgrade, the
// backup boot environment can no longer be booted: through BIOS its own
// /boot/loader cannot read the pool; through UEFI the new loader.efi
// starts its older kernel, which cannot import the pool.
func TestOlderBootEnvironmentAfterZpoolUpgrade(t *testing.T) {
	for _, c := range []struct {
		spec   Spec
		steps  upgradeSteps
		reason string
	}{
		{Spec{Preset: "bios", Release: "13.2-RELEASE"}, upgradeSteps{bootDisks: []string{"ada0", "ada1"}, bootIndex: 1}, "loader 13.2-RELEASE: ZFS: unsupported feature: com.delphix:head_errlog"},
		{Spec{Preset: "uefi", Release: "13.2-RELEASE", ESPs: "all"}, upgradeSteps{esps: []string{"ada0", "ada1"}}, "Mounting from zfs:zroot/ROOT/backup failed with error 45"},
	} {
		t.Run(c.spec.Preset, func(t *testing.T) {
			tm := newMachine(t, c.spec)
			c.steps.target = "14.2-RELEASE"
			rep := tm.upgrade(c.steps)
			if !rep.Booted {
				t.Fatalf("did not boot: %s", rep.Reason)
			}
			out := tm.must("bectl", "activate", "backup")
			if out != "Successfully activated boot environment backup\n" {
				t.Errorf("bectl activate: %q", out)
			}
			rep = tm.reboot(BootOptions{})
			if rep.Booted || !strings.Contains(rep.Reason, c.reason) {
				t.Errorf("boot of the 13.2 backup after zpool upgrade: %s\n%s", rep.Reason, strings.Join(rep.Console, "\n"))
			}
		})
	}
}

// TestBootEnvironments checks that bectl activate -t boots once, and each boot
// environment has its own files.
func TestBootEnvironments(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "14.2-RELEASE"})
	tm.mustOK("", "bectl", "create", "-r", "other")
	if out := tm.must("bectl", "activate", "-t", "other"); out != "Successfully activated boot environment other for next boot\n" {
		t.Errorf("bectl activate -t: %q", out)
	}
	if got := tm.must("bectl", "list", "-H"); !strings.Contains(got, "default\tNR\t/\t") || !strings.Contains(got, "other\tT\t-\t") {
		t.Errorf("bectl list -H:\n%s", got)
	}
	tm.reboot(BootOptions{})
	if got := tm.must("kenv", "-q", "vfs.root.mountfrom"); got != "zfs:zroot/ROOT/other\n" {
		t.Fatalf("after activate -t the root is %q", got)
	}
	if got := tm.must("bectl", "list", "-H"); !strings.Contains(got, "default\tR\t-\t") || !strings.Contains(got, "other\tN\t/\t") {
		t.Errorf("bectl list -H in the temporary boot environment:\n%s", got)
	}
	tm.mustOK("", "sysrc", "-f", "/root/marker", "in_other=YES")
	tm.reboot(BootOptions{})
	if got := tm.must("kenv", "-q", "vfs.root.mountfrom"); got != "zfs:zroot/ROOT/default\n" {
		t.Fatalf("the temporary activation lasted more than one boot: %q", got)
	}
	if _, err := os.Stat(tm.HostPath("/root/marker")); err == nil {
		t.Errorf("a file of boot environment other is visible in default")
	}
	if r := tm.run("bectl", "destroy", "default"); r.code != 5 {
		t.Errorf("destroying the active boot environment: %v", r)
	}
	tm.mustOK("", "bectl", "activate", "other")
	tm.reboot(BootOptions{})
	if got := tm.must("sysrc", "-f", "/root/marker", "-n", "in_other"); got != "YES\n" {
		t.Errorf("boot environment other lost its file: %q", got)
	}
}

// TestZpoolSet checks enabling single features and setting bootfs.
func TestZpoolSet(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE", PoolRelease: "13.2-RELEASE"})
	tm.mustOK("", "zpool", "set", "feature@zilsaxattr=enabled", "zroot")
	tm.mustOK("", "zpool", "set", "feature@blake3=enabled", "zroot")
	p := tm.model().pool("zroot")
	if p.featureState("zilsaxattr") != "active" || p.featureState("blake3") != "enabled" || p.featureState("head_errlog") != "disabled" {
		t.Errorf("features: %v", p.Features)
	}
	for _, c := range []struct {
		argv []string
		code int
		err  string
	}{
		{[]string{"zpool", "set", "feature@blake3=disabled", "zroot"}, 2, "property 'feature@blake3' can only be set to 'enabled'\n"},
		{[]string{"zpool", "set", "feature@raidz_expansion=enabled", "zroot"}, 2, "property 'feature@raidz_expansion' is not a valid pool or vdev property\n"},
		{[]string{"zpool", "set", "bootfs=zroot/ROOT/none", "zroot"}, 1, "cannot set property for 'zroot': dataset 'zroot/ROOT/none' does not exist\n"},
		{[]string{"zpool", "set", "compatibility=nonexistent", "zroot"}, 1, "cannot set property for 'zroot': compatibility file nonexistent: No such file or directory\n"},
	} {
		if r := tm.run(c.argv...); r.code != c.code || r.err != c.err {
			t.Errorf("%s: %v, want exit %d and %q", strings.Join(c.argv, " "), r, c.code, c.err)
		}
	}
}
