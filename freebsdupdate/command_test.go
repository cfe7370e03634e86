// SPDX-License-Identifier: BSD-2-Clause

package freebsdupdate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/internal/transcript"
)

func TestUpgradeCommand(t *testing.T) {
	c, err := Script{}.UpgradeCommand(MustParseRelease("14.2-RELEASE"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"freebsd-update", "--not-running-from-cron", "-r", "14.2-RELEASE", "upgrade"}, c.Args); diff != "" {
		t.Errorf("Args (-want +got):\n%s", diff)
	}
	if !hasEnv(c.Env, "PAGER=cat") {
		t.Errorf("Env %q lacks PAGER=cat", c.Env)
	}
	if !hasEnv(c.Env, "EDITOR=/usr/bin/false") {
		t.Errorf("Env %q lacks a non-interactive EDITOR", c.Env)
	}
	if c.Dialog == nil {
		t.Error("upgrade runs without a terminal dialog: its /dev/tty questions would fail")
	}

	for _, bad := range []string{"14.2-RELEASE-p3", "14.2-STABLE", "15.0-CURRENT"} {
		if _, err := (Script{}).UpgradeCommand(MustParseRelease(bad)); err == nil {
			t.Errorf("(Script{}).UpgradeCommand(%s) succeeded", bad)
		}
	}
	if _, err := (Script{}).UpgradeCommand(Release{}); err == nil {
		t.Error("(Script{}).UpgradeCommand(zero) succeeded")
	}
	if c, err := (Script{}).UpgradeCommand(MustParseRelease("15.0-BETA2")); err != nil || c.Args[3] != "15.0-BETA2" {
		t.Errorf("(Script{}).UpgradeCommand(15.0-BETA2) = %q, %v", c.Args, err)
	}
}

func TestDialog(t *testing.T) {
	full := transcript.RunOf(t, "freebsd-update-major-upgrade-14.3-to-15.0-full-sequence.txt", "freebsd-update upgrade", 0).Output
	tests := []struct {
		name, screen, answer string
		stop                 bool
	}{
		{"components", "The following components of FreeBSD seem to be installed:\nkernel/generic world/base\n\nDoes this look reasonable (y/n)? ", "y\n", false},
		{"merged file", "--- current version\n+++ new version\n #site:\\\nDoes this look reasonable (y/n)?", "y\n", false},
		{"still printing", "Fetching 6735 patches.....10....20", "", false},
		{"conflict", "The following file could not be merged automatically: /etc/pkg/FreeBSD.conf\r\nPress Enter to edit this file in /usr/bin/ee and resolve the conflicts\r\n", "", true},
		{"the real run up to its conflict", full, "", true},
	}
	for _, tt := range tests {
		answer, stop := Dialog(tt.screen)
		if answer != tt.answer || stop != tt.stop {
			t.Errorf("%s: Dialog = %q, %v; want %q, %v", tt.name, answer, stop, tt.answer, tt.stop)
		}
	}
}

func TestFetchInstallCommands(t *testing.T) {
	tests := []struct {
		cmd  Command
		args []string
	}{
		{FetchCommand(), []string{"freebsd-update", "--not-running-from-cron", "fetch"}},
		{InstallCommand(), []string{"freebsd-update", "--not-running-from-cron", "install"}},
		{Command{Args: UpdatesReadyArgs}, []string{"freebsd-update", "updatesready"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.args, tt.cmd.Args); diff != "" {
			t.Errorf("Args (-want +got):\n%s", diff)
		}
		if tt.cmd.Stdin != nil {
			t.Errorf("%q: Stdin %q, want none", tt.cmd.Args, tt.cmd.Stdin)
		}
	}
	if !hasEnv(FetchCommand().Env, "PAGER=cat") || !hasEnv(InstallCommand().Env, "PAGER=cat") {
		t.Error("fetch and install must page through cat")
	}
	// Builders return fresh slices: changing one command changes no other.
	a := FetchCommand()
	a.Env[0] = "PAGER=less"
	if !hasEnv(FetchCommand().Env, "PAGER=cat") {
		t.Error("FetchCommand shares its Env slice")
	}
}

func hasEnv(env []string, kv string) bool {
	for _, e := range env {
		if e == kv {
			return true
		}
	}
	return false
}

func TestProbesAreReadOnly(t *testing.T) {
	// The dry-run runner lets a command through only when host.ReadOnly
	// knows it: every probe here must be known, and nothing that changes
	// the host may pass as one.
	readOnly := [][]string{
		Command{Args: UpdatesReadyArgs}.Args,
		QuirkProbeCommand().Args,
		ListingCommand(WorkDir, "/"),
		{"cat", TagPath(WorkDir)},
	}
	for _, args := range readOnly {
		if !host.ReadOnly(args) {
			t.Errorf("%q is not read-only to the host package", args)
		}
	}
	upgrade, _ := Script{}.UpgradeCommand(MustParseRelease("14.2-RELEASE"))
	mutating := []Command{upgrade, FetchCommand(), InstallCommand()}
	mutating = append(mutating, MetadataPathFix("/var/db/zupgrade/backup/freebsd-update.orig")...)
	for _, c := range mutating {
		if host.ReadOnly(c.Args) {
			t.Errorf("%q passes as read-only", c.Args)
		}
	}
}
