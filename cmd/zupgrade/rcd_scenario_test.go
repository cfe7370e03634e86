// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// patchSpec is a host one patch behind whose patch touches the kernel: a
// run with one reboot checkpoint.
var patchSpec = simhost.Spec{Preset: "bios", Release: "14.3-RELEASE-p5", Updates: map[string]int{"14.3-RELEASE": 6}}

// installPort installs the sysutils/zupgrade package on the host as the
// port builds it: the zupgrade that runs, the rc.d script of
// files/zupgrade.in with %%PREFIX%% made /usr/local (SUB_LIST), and the
// newsyslog.conf.d entry.
func installPort(t *testing.T, h *testHost) {
	t.Helper()
	binary, err := os.ReadFile(h.exe)
	if err != nil {
		t.Fatal(err)
	}
	// h.exe is a link to the binary other tests run: replace the link,
	// never write through it.
	if err := os.Remove(h.exe); err != nil {
		t.Fatal(err)
	}
	installPortWith(t, h, binary)
}

// installPortWith installs the sysutils/zupgrade package as installPort
// does, with binary as its /usr/local/sbin/zupgrade.
func installPortWith(t *testing.T, h *testHost, binary []byte) {
	t.Helper()
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join("../../packaging/freebsd/files", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	rc := bytes.ReplaceAll(read("zupgrade.in"), []byte("%%PREFIX%%"), []byte("/usr/local"))
	err := h.m.InstallPackage("zupgrade", "0.1.0", "sysutils/zupgrade", []simhost.PackageFile{
		{Path: "/usr/local/sbin/zupgrade", Mode: 0o555, Data: binary},
		{Path: "/usr/local/etc/rc.d/zupgrade", Mode: 0o555, Data: rc},
		{Path: "/usr/local/etc/newsyslog.conf.d/zupgrade.conf", Mode: 0o644, Data: read("newsyslog.conf")},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// service runs service zupgrade ACTION on the host and returns its exit
// status and output.
func (h *testHost) service(action string) (int, string) {
	h.t.Helper()
	var out, errb bytes.Buffer
	code := h.m.Exec(context.Background(), []string{"service", "zupgrade", action}, nil, &out, &errb, nil)
	return code, out.String() + errb.String()
}

// rcConfD reads /etc/rc.conf.d/zupgrade ("" when it does not exist).
func (h *testHost) rcConfD() string {
	data, _ := os.ReadFile(h.m.HostPath("/etc/rc.conf.d/zupgrade"))
	return string(data)
}

// TestPackagedBootHook: the package installed /usr/local/etc/rc.d/zupgrade.
// A run enables it with sysrc -f in /etc/rc.conf.d/zupgrade, never writes
// or removes the script, and disables it at the end; the script resumes
// the run at boot, does nothing when no run is pending, and service
// zupgrade status says whether one is.
func TestPackagedBootHook(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, patchSpec)
	installPort(t, h)
	script := h.m.HostPath("/usr/local/etc/rc.d/zupgrade")
	before, err := os.Stat(script)
	if err != nil {
		t.Fatal(err)
	}
	keep := func(when string) {
		t.Helper()
		st, err := os.Stat(script)
		if err != nil || !os.SameFile(before, st) || !st.ModTime().Equal(before.ModTime()) {
			t.Errorf("%s: the package's rc.d script was removed or written (%v)", when, err)
		}
	}
	if code, out := h.service("status"); code != 1 || !strings.Contains(out, "no run is pending") {
		t.Errorf("service zupgrade status before the run: exit %d, %q", code, out)
	}
	// Started by hand with no run pending, it does nothing.
	if code, out := h.service("onestart"); code != 0 || out != "" {
		t.Errorf("service zupgrade onestart with no run pending: exit %d, %q", code, out)
	}
	if procs := h.wait(); len(procs) != 0 {
		t.Errorf("service zupgrade onestart with no run pending started %+v", procs)
	}

	code, out := h.zupgrade(nil, "apply", "--no-reboot")
	if code != ExitCheckpoint {
		t.Fatalf("apply --no-reboot: exit %d, want %d:\n%s", code, ExitCheckpoint, out)
	}
	keep("at the checkpoint")
	if strings.Contains(out, "/usr/local/etc/rc.d/zupgrade\n") {
		t.Errorf("the checkpoint installed the rc.d script over the package's:\n%s", out)
	}
	logDir := steps.LogDirFor(h.state)
	for _, want := range []string{`zupgrade_enable="YES"`, `zupgrade_state_dir="` + h.state + `"`, `zupgrade_log_dir="` + logDir + `"`} {
		if !strings.Contains(h.rcConfD(), want+"\n") {
			t.Errorf("/etc/rc.conf.d/zupgrade lacks %s:\n%s", want, h.rcConfD())
		}
	}
	if rc := h.sh("cat", "/etc/rc.conf"); strings.Contains(rc, "zupgrade") {
		t.Errorf("the run wrote into /etc/rc.conf:\n%s", rc)
	}
	if code, out := h.service("status"); code != 0 || !strings.Contains(out, "a run is pending (checkpoint)") {
		t.Errorf("service zupgrade status at the checkpoint: exit %d, %q", code, out)
	}

	// The boot runs the package's script, which resumes the run.
	rep := h.boot(simhost.BootOptions{})
	var resumed []simhost.Daemon
	for _, p := range h.wait() {
		if slices.Contains(p.Argv, "--resume") {
			resumed = append(resumed, p)
		}
	}
	if len(resumed) != 1 || resumed[0].Exit != 0 {
		t.Fatalf("the boot hook's resumed runs: %+v (hooks %+v)", resumed, rep.Hooks)
	}
	if want := []string{"/usr/local/sbin/zupgrade", "--state-dir", h.state, "--log-dir", logDir, "apply", "--resume"}; !slices.Equal(resumed[0].Argv, want) {
		t.Errorf("the hook ran %q, want %q", resumed[0].Argv, want)
	}
	log, err := os.ReadFile(filepath.Join(logDir, "resume.log"))
	if err != nil || !strings.Contains(string(log), "run complete") {
		t.Errorf("resume.log in the log directory: %v\n%s", err, log)
	}
	h.assertDone(0, string(log))
	keep("after the run")
	if strings.Contains(h.rcConfD(), "zupgrade_") {
		t.Errorf("/etc/rc.conf.d/zupgrade still enables the hook:\n%s", h.rcConfD())
	}
	if code, out := h.service("status"); code != 1 || !strings.Contains(out, "no run is pending") {
		t.Errorf("service zupgrade status after the run: exit %d, %q", code, out)
	}
	if got := h.sh("pkg", "which", "-q", "/usr/local/etc/rc.d/zupgrade"); got != "zupgrade-0.1.0\n" {
		t.Errorf("pkg which: %q", got)
	}
}

// TestUnpackagedBootHook: without the package a run installs the script
// at its checkpoint, the same file the package ships, enables it in
// /etc/rc.conf.d/zupgrade, and removes both at the end.
func TestUnpackagedBootHook(t *testing.T) {
	if testing.Short() {
		t.Skip("whole runs on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHost(t, patchSpec)
	code, out := h.zupgrade(nil, "apply", "--no-reboot")
	if code != ExitCheckpoint {
		t.Fatalf("apply --no-reboot: exit %d, want %d:\n%s", code, ExitCheckpoint, out)
	}
	got, err := os.ReadFile(h.m.HostPath("/usr/local/etc/rc.d/zupgrade"))
	if err != nil || !bytes.Equal(got, steps.RCScript("/usr/local")) {
		t.Errorf("the checkpoint's rc.d script is not the shipped one (%v):\n%s", err, got)
	}
	if !strings.Contains(h.rcConfD(), `zupgrade_enable="YES"`) {
		t.Errorf("/etc/rc.conf.d/zupgrade: %q", h.rcConfD())
	}
	if code, out := h.service("status"); code != 0 || !strings.Contains(out, "a run is pending") {
		t.Errorf("service zupgrade status at the checkpoint: exit %d, %q", code, out)
	}
	h.boot(simhost.BootOptions{})
	h.wait()
	h.assertDone(0, "")
	if _, err := os.Stat(h.m.HostPath("/usr/local/etc/rc.d/zupgrade")); err == nil {
		t.Error("the run left the rc.d script it installed")
	}
	if strings.Contains(h.rcConfD(), "zupgrade_") {
		t.Errorf("/etc/rc.conf.d/zupgrade still enables the hook:\n%s", h.rcConfD())
	}
}
