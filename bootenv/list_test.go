// SPDX-License-Identifier: BSD-2-Clause

package bootenv

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/internal/transcript"
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseListFixtures(t *testing.T) {
	tests := []struct {
		name             string
		fixture, command string
		n                int
		want             []BootEnv
	}{
		{"fresh 14.2", "bectl-list-after-freebsd-update-14.2.txt", "bectl list", 0, []BootEnv{
			{Name: "default", ActiveNow: true, ActiveOnReboot: true, Mountpoint: "/", Space: "655M", Created: at("2025-03-01 17:42")},
		}},
		{"after freebsd-update made its BE", "bectl-list-after-freebsd-update-14.2.txt", "bectl list", 1, []BootEnv{
			{Name: "14.2-RELEASE_2025-03-01_190330", Space: "4.20M", Created: at("2025-03-01 19:03")},
			{Name: "default", ActiveNow: true, ActiveOnReboot: true, Mountpoint: "/", Space: "675M", Created: at("2025-03-01 17:42")},
		}},
		{"GELI mirror, own names", "bectl-list-geli-mirror-and-mount-efi0.txt", "bectl list", 0, []BootEnv{
			{Name: "freebsd", Space: "1.11G", Created: at("2020-12-26 00:10")},
			{Name: "system", ActiveNow: true, ActiveOnReboot: true, Mountpoint: "/", Space: "980K", Created: at("2020-12-26 00:14")},
		}},
		{"blank line before the header", "bectl-list-s-snapshot.txt", "bectl list", 0, []BootEnv{
			{Name: "default", ActiveNow: true, ActiveOnReboot: true, Mountpoint: "/", Space: "2.03G", Created: at("2025-08-05 16:53")},
		}},
		{"dataset/snapshot form", "bectl-list-s-snapshot.txt", "bectl list -s", 0, []BootEnv{
			{Name: "default", ActiveNow: true, ActiveOnReboot: true, Mountpoint: "/", Space: "2.03G", Created: at("2025-08-05 16:53"),
				Dataset: "zroot/ROOT/default", Snapshots: []string{"default@origworld"}},
		}},
		{"beadm, right-aligned space", "beadm-list-and-zpool-get-bootfs.txt", "beadm list", 0, []BootEnv{
			{Name: "default", ActiveNow: true, ActiveOnReboot: true, Mountpoint: "/", Space: "24.0G", Created: at("2025-10-08 01:42")},
			{Name: "safe", Space: "1.3G", Created: at("2025-06-10 09:47")},
			{Name: "test", Space: "6.4G", Created: at("2025-08-22 23:02")},
		}},
		{"collapsed columns, pkgbase host", "freebsd-update-upgrade-14.2-BETA2-pkgbase-host.txt", "bectl list -c creation", 0, []BootEnv{
			{Name: "original", Space: "346M", Created: at("2024-07-10 02:29")},
			{Name: "fourteen-pkgbase", Space: "1.78M", Created: at("2024-07-10 02:46")},
			{Name: "kde6", Space: "7.25G", Created: at("2024-07-21 15:45")},
			{Name: "14.2-BETA2", ActiveNow: true, ActiveOnReboot: true, Mountpoint: "/", Space: "13.5G", Created: at("2024-11-10 01:34")},
		}},
	}
	for _, tt := range tests {
		out := transcript.RunOf(t, tt.fixture, tt.command, tt.n).Output
		got, err := ParseList(tt.command, []byte(out))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestParseListCollapsedManyNames(t *testing.T) {
	out := transcript.RunOf(t, "freebsd-update-install-be-snapshot-interrupted-13.2.txt", "bectl list -c creation", 0).Output
	got, err := ParseList("bectl list -c creation", []byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 15 {
		t.Fatalf("%d boot environments, want 15", len(got))
	}
	b, ok := Find(got, "13.1-RELEASE-p4_2022-12-10_144333")
	if !ok || b.Space != "926M" || !b.Created.Equal(at("2022-12-10 14:43")) || b.Flags() != "-" {
		t.Errorf("13.1-RELEASE-p4 BE = %+v, %v", b, ok)
	}
	for _, b := range got {
		if b.ActiveNow {
			t.Errorf("the excerpt shows no active boot environment, %s parsed as active", b.Name)
		}
	}
}

func TestParseListScripted(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []BootEnv
	}{
		{"two BEs", "14.2-RELEASE_2025-03-01_190330\t-\t-\t4.20M\t2025-03-01 19:03\ndefault\tNR\t/\t675M\t2025-03-01 17:42\n", []BootEnv{
			{Name: "14.2-RELEASE_2025-03-01_190330", Space: "4.20M", Created: at("2025-03-01 19:03")},
			{Name: "default", ActiveNow: true, ActiveOnReboot: true, Mountpoint: "/", Space: "675M", Created: at("2025-03-01 17:42")},
		}},
		{"trial boot pending, BE mounted", "default\tN\t/\t2.1G\t2025-03-01 17:42\nzupgrade-14.1-RELEASE-p6-to-14.2-RELEASE-20261126T130509\tT\t/tmp/be_mount.Xa1b\t12.5M\t2026-11-26 13:05\n", []BootEnv{
			{Name: "default", ActiveNow: true, Mountpoint: "/", Space: "2.1G", Created: at("2025-03-01 17:42")},
			{Name: "zupgrade-14.1-RELEASE-p6-to-14.2-RELEASE-20261126T130509", Temporary: true, Mountpoint: "/tmp/be_mount.Xa1b", Space: "12.5M", Created: at("2026-11-26 13:05")},
		}},
		{"no creation time, no trailing newline", "old\t-\t-\t0\t", []BootEnv{{Name: "old", Space: "0"}}},
		{"space unknown", "old\t-\t-\t-\t2020-01-01 00:00\n", []BootEnv{{Name: "old", Created: at("2020-01-01 00:00")}}},
		{"mountpoint with a space", "x\t-\t/mnt/my be\t1K\t2020-01-01 00:00\n", []BootEnv{{Name: "x", Mountpoint: "/mnt/my be", Space: "1K", Created: at("2020-01-01 00:00")}}},
		{"CRLF", "default\tNR\t/\t675M\t2025-03-01 17:42\r\n", []BootEnv{{Name: "default", ActiveNow: true, ActiveOnReboot: true, Mountpoint: "/", Space: "675M", Created: at("2025-03-01 17:42")}}},
		{"dataset form without header", "default\n  zroot/ROOT/default\tNR\t/\t2.03G\t2025-08-05 16:53\n    zroot/ROOT/default@2025-08-01-00:00:00-0\t-\t-\t8K\t2025-08-01 00:00\n  default@origworld\t-\t-\t0\t2025-08-05 19:21\n", []BootEnv{
			{Name: "default", ActiveNow: true, ActiveOnReboot: true, Mountpoint: "/", Space: "2.03G", Created: at("2025-08-05 16:53"),
				Dataset: "zroot/ROOT/default", Origin: "zroot/ROOT/default@2025-08-01-00:00:00-0", Snapshots: []string{"default@origworld"}},
		}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		got, err := ParseList(ListCommand, []byte(tt.in))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestParseListErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantLine int
	}{
		{"unknown flag", "default\tNX\t/\t675M\t2025-03-01 17:42\n", 1},
		{"repeated flag", "default\tNN\t/\t675M\t2025-03-01 17:42\n", 1},
		{"empty flags", "default\t\t/\t675M\t2025-03-01 17:42\n", 1},
		{"bad space", "default\tNR\t/\tlots\t2025-03-01 17:42\n", 1},
		{"bad date", "default\tNR\t/\t675M\t01/03/2025 17:42\n", 1},
		{"three fields", "default\tNR\t/\n", 1},
		{"six fields", "default\tNR\t/\t675M\t2025-03-01 17:42\textra\n", 1},
		{"relative mountpoint", "default\tNR\tmnt\t675M\t2025-03-01 17:42\n", 1},
		{"name with a slash", "zroot/ROOT/default\tNR\t/\t675M\t2025-03-01 17:42\n", 1},
		{"error message", "bectl: command not found\n", 1},
		{"wrong header", "BE Active Mountpoint Used Created\ndefault NR / 1G 2025-03-01 17:42\n", 1},
		{"second row broken", "a\t-\t-\t1K\t2020-01-01 00:00\nb\t-\t-\n", 2},
		{"odd indentation", "default\n   zroot/ROOT/default\tNR\t/\t2.03G\t2025-08-05 16:53\n", 2},
		{"BE without its dataset line", "BE/Dataset/Snapshot Active Mountpoint Space Created\n\ndefault\n", 0},
	}
	for _, tt := range tests {
		_, err := ParseList(ListCommand, []byte(tt.in))
		var pe *host.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: error %v, want a *host.ParseError", tt.name, err)
			continue
		}
		if pe.Line != tt.wantLine || pe.Command != ListCommand {
			t.Errorf("%s: ParseError{Command: %q, Line: %d}, want line %d", tt.name, pe.Command, pe.Line, tt.wantLine)
		}
	}
}

func TestParseListFlags(t *testing.T) {
	bes, err := ParseList(ListCommand, []byte("default\tN\t/\t2.1G\t2025-03-01 17:42\nnew\tR\t-\t12M\t2026-11-26 13:05\ntrial\tT\t-\t12M\t2026-11-26 13:06\n"))
	if err != nil {
		t.Fatal(err)
	}
	var flags []string
	for _, b := range bes {
		flags = append(flags, b.Name+" "+b.Flags())
	}
	if want := "default N, new R, trial T"; strings.Join(flags, ", ") != want {
		t.Errorf("flags %q, want %q", strings.Join(flags, ", "), want)
	}
	if _, ok := Find(bes, "nope"); ok {
		t.Error("Find found a missing BE")
	}
	if f := (BootEnv{ActiveNow: true, ActiveOnReboot: true, Temporary: true}).Flags(); f != "NRT" {
		t.Errorf("Flags = %q", f)
	}
}

func FuzzParseList(f *testing.F) {
	for _, fx := range []struct{ fixture, command string }{
		{"bectl-list-after-freebsd-update-14.2.txt", "bectl list"},
		{"bectl-list-geli-mirror-and-mount-efi0.txt", "bectl list"},
		{"bectl-list-s-snapshot.txt", "bectl list -s"},
		{"beadm-list-and-zpool-get-bootfs.txt", "beadm list"},
		{"freebsd-update-install-be-snapshot-interrupted-13.2.txt", "bectl list -c creation"},
	} {
		f.Add(transcript.RunOf(f, fx.fixture, fx.command, 0).Output)
	}
	f.Add("default\tNR\t/\t675M\t2025-03-01 17:42\nold\t-\t-\t0\t\n")
	f.Fuzz(func(t *testing.T, s string) {
		bes, err := ParseList(ListCommand, []byte(s))
		if err != nil {
			var pe *host.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *host.ParseError", err)
			}
			return
		}
		for _, b := range bes {
			if b.Name == "" || strings.ContainsAny(b.Name, "/@\t\n") {
				t.Fatalf("bad name %q from %q", b.Name, s)
			}
			if b.Mountpoint != "" && !strings.HasPrefix(b.Mountpoint, "/") {
				t.Fatalf("bad mountpoint %q", b.Mountpoint)
			}
		}
	})
}
