// SPDX-License-Identifier: BSD-2-Clause

package bootenv

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zupgrade/zupgrade/host"
)

func TestValidateName(t *testing.T) {
	valid := []string{
		"default", "14.2-RELEASE_2025-03-01_190330", "zupgrade-14.1-RELEASE-p6-to-14.2-RELEASE-20261126T130509",
		"a", "A.b_c-d", "..a", strings.Repeat("x", MaxDatasetNameLen),
	}
	for _, n := range valid {
		if err := ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v", n, err)
		}
	}
	invalid := []string{
		"", ".", "..", "-r", "--help", "a b", "a/b", "default@snap", "a:b", "ümlaut", "tab\there",
		"new\nline", "semi;colon", "$(reboot)", strings.Repeat("x", MaxDatasetNameLen+1),
	}
	for _, n := range invalid {
		err := ValidateName(n)
		var ne *NameError
		if !errors.As(err, &ne) {
			t.Errorf("ValidateName(%q) = %v, want a *NameError", n, err)
		}
	}
	if err := ValidateFullName("zroot/ROOT", strings.Repeat("x", 240)); err != nil {
		t.Errorf("ValidateFullName with room: %v", err)
	}
	if err := ValidateFullName("zroot/ROOT", strings.Repeat("x", 250)); err == nil {
		t.Error("ValidateFullName accepted a dataset name longer than ZFS allows")
	}
}

func TestBackupName(t *testing.T) {
	when := time.Date(2026, 11, 26, 13, 5, 9, 0, time.UTC)
	tests := []struct {
		current, target string
		at              time.Time
		want            string
	}{
		{"14.1-RELEASE-p6", "14.2-RELEASE", when, "zupgrade-14.1-RELEASE-p6-to-14.2-RELEASE-20261126T130509"},
		{"14.3-RELEASE-p5", "15.0-RELEASE", when.In(time.FixedZone("CET", 3600)), "zupgrade-14.3-RELEASE-p5-to-15.0-RELEASE-20261126T130509"},
		{"15.0-BETA2", "15.0-RC1", when, "zupgrade-15.0-BETA2-to-15.0-RC1-20261126T130509"},
		{"14.1-RELEASE-p6", "", when, "zupgrade-14.1-RELEASE-p6-patch-20261126T130509"},
	}
	for _, tt := range tests {
		got, err := BackupName(tt.current, tt.target, tt.at)
		if err != nil || got != tt.want {
			t.Errorf("BackupName(%q, %q) = %q, %v; want %q", tt.current, tt.target, got, err, tt.want)
		}
		if ValidateName(got) != nil {
			t.Errorf("%q is not a valid boot environment name", got)
		}
	}
	for _, bad := range [][2]string{{"", "14.2-RELEASE"}, {"14.1 RELEASE", "14.2-RELEASE"}, {"14.1-RELEASE", "14.2/RELEASE"}} {
		if got, err := BackupName(bad[0], bad[1], when); err == nil {
			t.Errorf("BackupName(%q, %q) = %q, want an error", bad[0], bad[1], got)
		}
	}
}

func TestArgs(t *testing.T) {
	name := "zupgrade-14.1-RELEASE-p6-to-14.2-RELEASE-20261126T130509"
	must := func(args []string, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return args
	}
	tests := []struct {
		got, want []string
	}{
		{CheckArgs(), []string{"bectl", "check"}},
		{ListArgs(), []string{"bectl", "list", "-H"}},
		{must(CreateArgs(name)), []string{"bectl", "create", "-r", name}},
		{must(ActivateArgs(name, false)), []string{"bectl", "activate", name}},
		{must(ActivateArgs(name, true)), []string{"bectl", "activate", "-t", name}},
		{must(SnapshotArgs("zroot/ROOT/default", name)), []string{"zfs", "snapshot", "-r", "zroot/ROOT/default@" + name}},
		{must(SnapshotArgs("tank", name)), []string{"zfs", "snapshot", "-r", "tank@" + name}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
	for _, bad := range []string{"", "-r", "a b", "x@y"} {
		if _, err := CreateArgs(bad); err == nil {
			t.Errorf("CreateArgs(%q) succeeded", bad)
		}
		if _, err := ActivateArgs(bad, true); err == nil {
			t.Errorf("ActivateArgs(%q) succeeded", bad)
		}
	}
	for _, ds := range []string{"", "/zroot", "zroot/", "zroot//ROOT", "1pool/ROOT", "zroot/ROOT/../x", "zroot/ROOT@x", "-zroot"} {
		if _, err := SnapshotArgs(ds, name); err == nil {
			t.Errorf("SnapshotArgs(%q) succeeded", ds)
		}
	}
	if _, err := SnapshotArgs("zroot/"+strings.Repeat("d", 200), strings.Repeat("n", 60)); err == nil {
		t.Error("SnapshotArgs accepted a snapshot name longer than ZFS allows")
	}
}

func TestParseCheck(t *testing.T) {
	tests := []struct {
		exit int
		want Support
	}{{0, Supported}, {255, Unsupported}, {127, NoBectl}}
	for _, tt := range tests {
		if got, err := ParseCheck(tt.exit); err != nil || got != tt.want {
			t.Errorf("ParseCheck(%d) = %s, %v; want %s", tt.exit, got, err, tt.want)
		}
	}
	for _, exit := range []int{1, 2, -1} {
		if got, err := ParseCheck(exit); err == nil {
			t.Errorf("ParseCheck(%d) = %s, want an error", exit, got)
		}
	}
}

func TestSnapshotRollbackInstructions(t *testing.T) {
	text, err := SnapshotRollbackInstructions("zroot/ROOT/default", "zupgrade-10.3-RELEASE-to-11.4-RELEASE-20261126T130509")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"zroot/ROOT/default@zupgrade-10.3-RELEASE-to-11.4-RELEASE-20261126T130509",
		"zpool import -f -N -R /mnt zroot",
		"zfs list -H -o name -t snapshot -r zroot/ROOT/default | awk -F@ '$2 == \"zupgrade-10.3-RELEASE-to-11.4-RELEASE-20261126T130509\"'",
		"zfs rollback -r zroot/ROOT/default@zupgrade-10.3-RELEASE-to-11.4-RELEASE-20261126T130509",
		"zpool export zroot",
		"zpool upgrade",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("instructions lack %q:\n%s", want, text)
		}
	}
	if _, err := SnapshotRollbackInstructions("zroot/ROOT/default", "bad name"); err == nil {
		t.Error("instructions for an invalid name")
	}
}

func TestReadOnlyMatchesHost(t *testing.T) {
	for _, args := range [][]string{CheckArgs(), ListArgs()} {
		if !host.ReadOnly(args) {
			t.Errorf("%q is not read-only to the host package", args)
		}
	}
	name := "zupgrade-14.1-RELEASE-p6-to-14.2-RELEASE-20261126T130509"
	create, _ := CreateArgs(name)
	activate, _ := ActivateArgs(name, true)
	snapshot, _ := SnapshotArgs("zroot/ROOT/default", name)
	for _, args := range [][]string{create, activate, snapshot} {
		if host.ReadOnly(args) {
			t.Errorf("%q passes as read-only", args)
		}
	}
}
