// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"os"
	"strings"
	"testing"
)

// TestCreateBootEnvDefault: install_create_be runs on every install of the
// scripts that have it (12.3 and 13.1 on), because default_params sets
// CreateBootEnv yes and the shipped freebsd-update.conf names it only in a
// comment; "CreateBootEnv no" in the file turns it off, and a jail never
// gets one.
func TestCreateBootEnvDefault(t *testing.T) {
	tests := []struct {
		name   string
		spec   Spec
		conf   string // appended to /etc/freebsd-update.conf
		wantBE bool
	}{
		{"13.2, default", Spec{Preset: "bios", Release: "13.2-RELEASE"}, "", true},
		{"12.3, default", Spec{Preset: "bios", Release: "12.3-RELEASE"}, "", true},
		{"12.2 has no install_create_be", Spec{Preset: "bios", Release: "12.2-RELEASE"}, "", false},
		{"13.0 has no install_create_be", Spec{Preset: "bios", Release: "13.0-RELEASE"}, "", false},
		{"14.2, CreateBootEnv no", Spec{Preset: "bios", Release: "14.2-RELEASE"}, "CreateBootEnv no # keep it simple\n", false},
		{"14.2, CreateBootEnv YES", Spec{Preset: "bios", Release: "14.2-RELEASE"}, "CreateBootEnv YES\n", true},
		{"14.2 in a jail", Spec{Preset: "bios", Release: "14.2-RELEASE", Jailed: true}, "", false},
		{"14.2, root outside a BE layout (bectl check fails)", Spec{Preset: "bios", Release: "14.2-RELEASE", RootDataset: "zroot"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.Updates = map[string]int{MustRelease(tt.spec.Release).Base().String(): 1}
			tm := newMachine(t, tt.spec)
			tm.env["PAGER"] = "cat"
			conf := tm.must("cat", "/etc/freebsd-update.conf")
			if strings.Contains(conf, "\nCreateBootEnv") {
				t.Errorf("the shipped freebsd-update.conf sets CreateBootEnv; it only names it in a comment:\n%s", conf)
			}
			if tt.conf != "" {
				if err := os.WriteFile(tm.HostPath("/etc/freebsd-update.conf"), []byte(conf+tt.conf), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			bes := func() string { return tm.must("zfs", "list", "-H", "-o", "name", "-r", "zroot") }
			before := bes()
			tm.mustOK("", "freebsd-update", "--not-running-from-cron", "fetch")
			out := tm.mustOK("", "freebsd-update", "install")
			after := bes()
			name := tt.spec.Release + "_2025-03-01_1000"
			if got := strings.Contains(out, "Creating snapshot of existing boot environment... done.\n"); got != tt.wantBE {
				t.Errorf("install said it made a boot environment: %v, want %v:\n%s", got, tt.wantBE, out)
			}
			if got := strings.Contains(after, "/"+name); got != tt.wantBE {
				t.Errorf("boot environment %s* made: %v, want %v\nbefore:\n%safter:\n%s", name, got, tt.wantBE, before, after)
			}
		})
	}
}

// TestRollbackChain: install_setup_rollback keeps the previous rollback
// directory inside the new one (its "rollback" link), and
// rollback_setup_rollback makes it the next to roll back: two rollbacks
// undo a patch and then the upgrade before it.
func TestRollbackChain(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE", Updates: map[string]int{"14.2-RELEASE": 1}})
	tm.env["PAGER"] = "cat"
	rollbackDir := "/var/db/freebsd-update/" + fuOptions{basedir: "/"}.bdHash() + "-rollback"
	tm.mustOK("", "freebsd-update", "--not-running-from-cron", "fetch")
	tm.mustOK("", "freebsd-update", "install")
	if got := tm.must("freebsd-version", "-ku"); got != "14.2-RELEASE-p1\n14.2-RELEASE-p1\n" {
		t.Fatalf("patch not installed: -ku %q", got)
	}
	// install_setup_rollback removes kerneldone only with kernelfirst:
	// a patch install's rollback directory keeps it.
	if got := tm.must("ls", "-1", rollbackDir); got != "INDEX-NEW\nINDEX-OLD\nkerneldone\n" {
		t.Errorf("the first rollback directory: %q", got)
	}
	tm.mustOK("", "freebsd-update", "--not-running-from-cron", "-r", "14.3-RELEASE", "upgrade")
	tm.mustOK("", "freebsd-update", "install")
	tm.mustBoot(BootOptions{})
	for i := 0; i < 2 && tm.run("freebsd-update", "updatesready").code == 0; i++ {
		tm.mustOK("", "freebsd-update", "install")
	}
	if got := tm.must("freebsd-version", "-ku"); got != "14.3-RELEASE\n14.3-RELEASE\n" {
		t.Fatalf("upgrade not installed: -ku %q", got)
	}
	if got := tm.must("ls", "-1", rollbackDir); got != "INDEX-NEW\nINDEX-OLD\nrollback\n" {
		t.Errorf("the second rollback directory does not link the first (markers must go): %q", got)
	}
	if got := tm.must("ls", "-1", "/var/db/freebsd-update"); strings.Count(got, "install.") != 2 {
		t.Errorf("want both install directories kept:\n%s", got)
	}
	tm.mustOK("", "freebsd-update", "rollback")
	if got := tm.must("freebsd-version", "-ku"); got != "14.2-RELEASE-p1\n14.2-RELEASE-p1\n" {
		t.Errorf("after the first rollback freebsd-version -ku = %q", got)
	}
	if got := tm.must("ls", "-1", rollbackDir); got != "INDEX-NEW\nINDEX-OLD\nkerneldone\n" {
		t.Errorf("the patch's rollback directory is not next: %q", got)
	}
	tm.mustOK("", "freebsd-update", "rollback")
	if got := tm.must("freebsd-version", "-ku"); got != "14.2-RELEASE\n14.2-RELEASE\n" {
		t.Errorf("after the second rollback freebsd-version -ku = %q", got)
	}
	if r := tm.run("freebsd-update", "rollback"); r.code != 1 || r.out != "No rollback directory found.\n" {
		t.Errorf("a third rollback: %v", r)
	}
	if got := tm.must("ls", "-1", "/var/db/freebsd-update"); strings.Contains(got, "install.") {
		t.Errorf("rolled-back install directories left behind:\n%s", got)
	}
}

// TestPkgbaseAnyRelease: a packaged base can be described on any release;
// the scripts with check_pkgbase refuse every command there, updatesready
// included, and the older ones run as on any host.
func TestPkgbaseAnyRelease(t *testing.T) {
	refusal := "freebsd-update is incompatible with the use of packaged base.  Please see\nhttps://wiki.freebsd.org/PkgBase for more information.\n"
	for _, tt := range []struct {
		release string
		refuses bool
	}{{"9.3-RELEASE", false}, {"13.2-RELEASE", false}, {"14.2-RELEASE", false}, {"14.3-RELEASE", true}, {"15.0-RELEASE", true}} {
		t.Run(tt.release, func(t *testing.T) {
			tm := newMachine(t, Spec{Preset: "bios", Release: tt.release, Pkgbase: true})
			if got := tm.must("pkg", "which", "-q", "/usr/bin/uname"); !strings.HasPrefix(got, "FreeBSD-runtime-") {
				t.Errorf("pkg which -q /usr/bin/uname = %q", got)
			}
			for _, args := range [][]string{{"freebsd-update", "updatesready"}, {"freebsd-update", "install"}, {"freebsd-update", "rollback"}} {
				r := tm.run(args...)
				if got := r.code == 1 && r.out == refusal; got != tt.refuses {
					t.Errorf("%s refused: %v, want %v: %v", strings.Join(args, " "), got, tt.refuses, r)
				}
			}
		})
	}
}

// TestCustomKernel follows freebsd-update.sh with a kernel configuration
// other than GENERIC (uname -i): upgrade_guess_components warns that a
// configuration the release does not distribute will not be updated and
// leaves the kernel out; upgrade_guess_new_kernel replaces one the new
// release lacks with GENERIC after asking; fetch leaves an undistributed
// kernel alone without a word.
func TestCustomKernel(t *testing.T) {
	t.Run("not distributed: not updated", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios", Release: "13.4-RELEASE", KernelIdent: "MYKERNEL"})
		tm.env["PAGER"] = "cat"
		if got := tm.must("uname", "-i"); got != "MYKERNEL\n" {
			t.Errorf("uname -i = %q", got)
		}
		out := tm.mustOK("", "freebsd-update", "--not-running-from-cron", "-r", "14.2-RELEASE", "upgrade")
		warn := "\nWARNING: This system is running a \"mykernel\" kernel, which is not a\nkernel configuration distributed as part of FreeBSD 13.4-RELEASE.\nThis kernel will not be updated: you MUST update the kernel manually\nbefore running 'freebsd-update [options] install'.\n\nThe following components of FreeBSD seem to be installed:\nworld/base\n"
		if !strings.Contains(out, warn) {
			t.Errorf("upgrade output lacks the custom-kernel warning:\n%s", out)
		}
		if idx := tm.must("cat", installDir+"/INDEX-NEW"); strings.Contains(idx, "/boot/kernel/") || !strings.Contains(idx, "/boot/loader|") {
			t.Errorf("INDEX-NEW of an upgrade that leaves the kernel alone:\n%s", idx)
		}
		out = tm.mustOK("", "freebsd-update", "install")
		if !strings.Contains(out, "Kernel updates have been installed.") {
			t.Errorf("install #1 (the rest of /boot changes):\n%s", out)
		}
		tm.mustBoot(BootOptions{})
		if got := tm.must("freebsd-version", "-kr"); got != "13.4-RELEASE\n13.4-RELEASE\n" {
			t.Errorf("after install #1 and a reboot freebsd-version -kr = %q", got)
		}
		if got := tm.must("uname", "-i"); got != "MYKERNEL\n" {
			t.Errorf("uname -i after the reboot = %q", got)
		}
		tm.mustOK("", "freebsd-update", "install")
		if got := tm.must("freebsd-version", "-ku"); got != "13.4-RELEASE\n14.2-RELEASE\n" {
			t.Errorf("after install #2 freebsd-version -ku = %q", got)
		}
	})
	t.Run("the 9.0 script names KERNCONF", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios", Release: "9.0-RELEASE", KernelIdent: "MYKERNEL"})
		tm.env["PAGER"] = "cat"
		out := tm.mustOK("", "freebsd-update", "-r", "9.1-RELEASE", "upgrade")
		if !strings.Contains(out, "WARNING: This system is running a \"MYKERNEL\" kernel, which is not a\nkernel configuration distributed as part of FreeBSD 9.0-RELEASE.\nThis kernel will not be updated: you MUST update the kernel manually\nbefore running \"/usr/sbin/freebsd-update install\"\n") {
			t.Errorf("9.0's warning (as the Handbook quotes it):\n%s", out)
		}
	})
	t.Run("dropped by the new release: replaced with GENERIC if agreed", func(t *testing.T) {
		spec := Spec{Preset: "bios", Release: "13.4-RELEASE", KernelIdent: "MYKERNEL", KernelConfigs: map[string][]string{"13.4-RELEASE": {"MYKERNEL"}}}
		tm := newMachine(t, spec)
		tm.env["PAGER"] = "cat"
		warn := "\nWARNING: This system is running a \"mykernel\" kernel, which is not a\nkernel configuration distributed as part of FreeBSD 14.2-RELEASE.\nAs part of upgrading to FreeBSD 14.2-RELEASE, this kernel will be\nreplaced with a \"generic\" kernel.\nDoes this look reasonable (y/n)? "
		r := tm.runInput("y\nn\n", "freebsd-update", "--not-running-from-cron", "-r", "14.2-RELEASE", "upgrade")
		if r.code != 1 || !strings.Contains(r.out, warn) || !strings.Contains(r.out, "seem to be installed:\nkernel/mykernel world/base\n") {
			t.Errorf("upgrade answered no: %v", r)
		}
		if tm.run("freebsd-update", "updatesready").code != 2 {
			t.Errorf("a declined upgrade left an install pending")
		}
		out := tm.mustOK("y\ny\ny\n", "freebsd-update", "--not-running-from-cron", "-r", "14.2-RELEASE", "upgrade")
		if !strings.Contains(out, warn) {
			t.Errorf("upgrade answered yes:\n%s", out)
		}
		tm.mustOK("", "freebsd-update", "install")
		tm.mustBoot(BootOptions{})
		if got := tm.must("uname", "-ri"); got != "14.2-RELEASE GENERIC\n" {
			t.Errorf("after install #1 and a reboot uname -ri = %q", got)
		}
	})
	t.Run("distributed by both: updated as it is", func(t *testing.T) {
		spec := Spec{Preset: "bios", Release: "13.4-RELEASE", KernelIdent: "MYKERNEL", KernelConfigs: map[string][]string{"13.4-RELEASE": {"MYKERNEL"}, "14.2-RELEASE": {"MYKERNEL"}}}
		tm := newMachine(t, spec)
		tm.env["PAGER"] = "cat"
		out := tm.mustOK("", "freebsd-update", "--not-running-from-cron", "-r", "14.2-RELEASE", "upgrade")
		if strings.Contains(out, "WARNING") {
			t.Errorf("a distributed configuration got a warning:\n%s", out)
		}
		tm.mustOK("", "freebsd-update", "install")
		tm.mustBoot(BootOptions{})
		if got := tm.must("uname", "-ri"); got != "14.2-RELEASE MYKERNEL\n" {
			t.Errorf("after install #1 and a reboot uname -ri = %q", got)
		}
	})
	t.Run("fetch leaves an undistributed kernel alone", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios", Release: "14.3-RELEASE-p5", KernelIdent: "MYKERNEL", Updates: map[string]int{"14.3-RELEASE": 6}})
		tm.env["PAGER"] = "cat"
		out := tm.mustOK("", "freebsd-update", "--not-running-from-cron", "fetch")
		if strings.Contains(out, "WARNING") || strings.Contains(out, "/boot/kernel/kernel") {
			t.Errorf("fetch:\n%s", out)
		}
		tm.mustOK("", "freebsd-update", "install")
		if got := tm.must("freebsd-version", "-ku"); got != "14.3-RELEASE-p5\n14.3-RELEASE-p6\n" {
			t.Errorf("after the patch freebsd-version -ku = %q", got)
		}
		if out := tm.mustOK("", "freebsd-update", "--not-running-from-cron", "fetch"); !strings.Contains(out, "No updates needed") {
			t.Errorf("a second fetch:\n%s", out)
		}
	})
}
