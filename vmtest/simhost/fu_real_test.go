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
			bes := func() string { return tm.must("zfs", "list", "-H", "-o", "name", "-r", "zroot/ROOT") }
			before := bes()
			tm.mustOK("", "freebsd-update", "--not-running-from-cron", "fetch")
			out := tm.mustOK("", "freebsd-update", "install")
			after := bes()
			name := tt.spec.Release + "_2025-03-01_1000"
			if got := strings.Contains(out, "Creating snapshot of existing boot environment... done.\n"); got != tt.wantBE {
				t.Errorf("install said it made a boot environment: %v, want %v:\n%s", got, tt.wantBE, out)
			}
			if got := strings.Contains(after, name); got != tt.wantBE {
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
	rollbackDir := "/var/db/freebsd-update/" + bdHash + "-rollback"
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
