package steps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// RCScript returns the rc.d script that resumes a run after a reboot. It
// follows rc.subr(8): enabled with zupgrade_enable=YES (apply sets it while
// a run is pending and removes it when the run ends), runs late in boot
// (after sshd, so that the host stays reachable) and detaches with daemon(8)
// so that the boot does not wait for the upgrade.
func RCScript(binary, stateDir string) []byte {
	return []byte(fmt.Sprintf(`#!/bin/sh
#
# PROVIDE: zupgrade
# REQUIRE: LOGIN sshd
# KEYWORD: nojail
#
# Resumes a pending zupgrade run after a reboot checkpoint. zupgrade apply
# installs and enables this script while a run is pending and removes it
# when the run ends. The run's log: %[2]s/resume.log

. /etc/rc.subr

name="zupgrade"
rcvar="zupgrade_enable"
start_cmd="zupgrade_start"
stop_cmd=":"

load_rc_config $name
: ${zupgrade_enable:="NO"}

zupgrade_start()
{
	echo "Resuming the zupgrade run (log: %[2]s/resume.log)."
	daemon -f -o %[2]s/resume.log %[1]s --state-dir %[2]s apply --resume
}

run_rc_command "$1"
`, binary, stateDir))
}

// writeHook writes the rc.d script into the state directory, from where the
// checkpoint installs it with install(1) through the runner.
func writeHook(s Store, binary string) error {
	if binary == "" {
		binary = "/usr/local/sbin/zupgrade"
	}
	dir := filepath.Join(s.Dir, "rc.d")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := writeDurably(filepath.Join(dir, "zupgrade"), RCScript(binary, s.Dir)); err != nil {
		return err
	}
	return writeDurably(filepath.Join(dir, "zupgrade.conf"), []byte("# Written by zupgrade while a run is pending.\nzupgrade_enable=\"YES\"\n"))
}

// hookInstalled reports whether the boot hook is on the host or enabled.
func (sc *stepContext) hookInstalled(ctx context.Context) bool {
	ls, err := sc.probe(ctx, "ls", "-1", rcScript)
	if err == nil && ls.OK() {
		return true
	}
	if ls, err := sc.probe(ctx, "ls", "-1", rcConfD); err == nil && ls.OK() {
		return true
	}
	v, err := sc.probe(ctx, "sysrc", "-n", "zupgrade_enable")
	return err == nil && v.OK() && strings.TrimSpace(string(v.Stdout)) != ""
}
