// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// recap reads ansible-playbook's PLAY RECAP: host -> counter -> value.
func recap(out string) map[string]map[string]string {
	hosts := map[string]map[string]string{}
	_, rec, _ := strings.Cut(out, "PLAY RECAP")
	line := regexp.MustCompile(`(?m)^(\S+)\s+:\s+(.*)$`)
	kv := regexp.MustCompile(`(\w+)=(\d+)`)
	for _, m := range line.FindAllStringSubmatch(rec, -1) {
		hosts[m[1]] = map[string]string{}
		for _, c := range kv.FindAllStringSubmatch(m[2], -1) {
			hosts[m[1]][c[1]] = c[2]
		}
	}
	return hosts
}

// TestAnsibleRole runs contrib/ansible's playbook and role with
// ansible-playbook (local connection) on three simulated hosts in batches
// of two, the reboot task booting the simulated host: a host whose boot
// pool is degraded stops alone with the blocking check, the others end on
// the target release. Check mode first runs plan only; a second run
// changes nothing.
func TestAnsibleRole(t *testing.T) {
	if testing.Short() {
		t.Skip("whole upgrades through Ansible; not in -short")
	}
	playbookBin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ansible-playbook is not installed (.ci/run installs ansible-core)")
		}
		t.Skip("ansible-playbook is not installed")
	}
	zup, sim := binaries(t)
	const from, to = "14.2-RELEASE", "14.3-RELEASE"
	dir := t.TempDir()

	// The reboot task of the role, overridden: the simulated host boots
	// (and its rc.d script resumes the run, as on a real host).
	rebootTasks := filepath.Join(dir, "simhost-reboot.yml")
	if err := os.WriteFile(rebootTasks, []byte(`---
- name: Boot the simulated host
  ansible.builtin.command:
    argv: ["{{ simhost_bin }}", "boot", "--root", "{{ simhost_root }}"]
- name: Wait for the run the boot hook detached
  ansible.builtin.command:
    argv: ["{{ simhost_bin }}", "wait", "--root", "{{ simhost_root }}"]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	names := []string{"blocked", "web1", "web2"}
	hosts := map[string]*testHost{}
	inv := map[string]any{}
	for _, name := range names {
		h := newHost(t, simhost.Spec{Preset: "bios", Release: from, Disks: 2})
		hosts[name] = h
		path := h.m.HostPath("/usr/local/sbin/zupgrade")
		inv[name] = map[string]any{
			"ansible_connection":         "local",
			"ansible_python_interpreter": "{{ ansible_playbook_python }}",
			"ansible_become":             false,
			"zupgrade_binary_src":        zup,
			"zupgrade_path":              path,
			"zupgrade_state_dir":         h.state,
			"zupgrade_environment":       map[string]string{"PATH": strings.TrimPrefix(h.m.Env()[0], "PATH="), simhost.RootEnv: h.m.Root},
			"zupgrade_reboot_tasks":      rebootTasks,
			"simhost_bin":                sim,
			"simhost_root":               h.m.Root,
		}
		// Check mode copies nothing: newHost put zupgrade there as the
		// package would.
	}
	if err := hosts["blocked"].m.RemoveDisk("ada1"); err != nil {
		t.Fatal(err)
	}
	// busy: a patch run is live on it (its apply holds the lock) when the
	// role starts; see the end of the test.
	busy := newHost(t, patchSpec)
	inv["busy"] = map[string]any{
		"ansible_connection":         "local",
		"ansible_python_interpreter": "{{ ansible_playbook_python }}",
		"ansible_become":             false,
		"zupgrade_path":              busy.exe,
		"zupgrade_state_dir":         busy.state,
		"zupgrade_environment":       map[string]string{"PATH": strings.TrimPrefix(busy.m.Env()[0], "PATH="), simhost.RootEnv: busy.m.Root},
		"zupgrade_reboot_tasks":      rebootTasks,
		"simhost_bin":                sim,
		"simhost_root":               busy.m.Root,
	}
	invData, _ := json.Marshal(map[string]any{"freebsd": map[string]any{"hosts": inv}})
	invFile := filepath.Join(dir, "inventory.json")
	if err := os.WriteFile(invFile, invData, 0o600); err != nil {
		t.Fatal(err)
	}
	contrib, err := filepath.Abs("../../contrib/ansible")
	if err != nil {
		t.Fatal(err)
	}
	playbookCmd := func(args ...string) *exec.Cmd {
		cmd := exec.Command(playbookBin, append([]string{"-i", invFile, filepath.Join(contrib, "playbook.yml"), "-e", "zupgrade_to=" + to}, args...)...)
		cmd.Env = append(os.Environ(),
			"HOME="+dir, "ANSIBLE_HOME="+filepath.Join(dir, "ansible"), "ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "ansible/tmp"),
			"ANSIBLE_REMOTE_TEMP="+filepath.Join(dir, "ansible/remote"), "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0",
			"ANSIBLE_ROLES_PATH="+filepath.Join(contrib, "roles"), "ANSIBLE_RETRY_FILES_ENABLED=0", "LC_ALL=C.UTF-8",
			"PYTHONUNBUFFERED=1")
		return cmd
	}
	playbook := func(args ...string) (int, string) {
		t.Helper()
		cmd := playbookCmd(append([]string{"-l", strings.Join(names, ",")}, args...)...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	blockedReason := "the pool is DEGRADED"

	// Check mode: plan only, nothing changes; the blocked host fails.
	code, out := playbook("--check")
	if code != 2 {
		t.Fatalf("ansible-playbook --check: exit %d, want 2 (a host failed):\n%s", code, out)
	}
	if !strings.Contains(out, "Install the new kernel") || !strings.Contains(out, blockedReason) {
		t.Errorf("check mode shows no plan, or not the blocking check:\n%s", out)
	}
	for _, name := range names {
		if j := hosts[name].journal(); j != nil {
			t.Errorf("%s: check mode started a run (%s)", name, j.Status)
		}
		if got := hosts[name].sh("freebsd-version", "-u"); got != from+"\n" {
			t.Errorf("%s: check mode changed the release to %q", name, got)
		}
	}

	// The run: batches of two, the blocked host stops alone.
	code, out = playbook()
	if code != 2 {
		t.Fatalf("ansible-playbook: exit %d, want 2 (one host failed):\n%s", code, out)
	}
	if n := strings.Count(out, "\nPLAY [Upgrade FreeBSD hosts with zupgrade]"); n != 2 {
		t.Errorf("%d batches, want 2 (serial 2 over 3 hosts):\n%s", n, out)
	}
	rec := recap(out)
	if rec["blocked"]["failed"] != "1" || !regexp.MustCompile(`(?s)fatal: \[blocked\].*is blocked on blocked: .*\[pool-health\] boot pool healthy.*`+regexp.QuoteMeta(blockedReason)).MatchString(out) {
		t.Errorf("the blocked host did not fail with the blocking check (recap %v):\n%s", rec["blocked"], out)
	}
	if j := hosts["blocked"].journal(); j != nil {
		t.Errorf("the blocked host has a run (%s)", j.Status)
	}
	for _, name := range names[1:] {
		h := hosts[name]
		if rec[name]["failed"] != "0" || rec[name]["changed"] == "0" {
			t.Errorf("%s: recap %v, want changed and not failed:\n%s", name, rec[name], out)
		}
		if j := h.journal(); j == nil || j.Status != steps.StatusDone {
			t.Errorf("%s: the run is not done: %+v", name, j)
		}
		if got := h.sh("freebsd-version", "-kru"); got != strings.Repeat(to+"\n", 3) {
			t.Errorf("%s: freebsd-version -kru = %q, want %s", name, got, to)
		}
		h.assertBootsEverywhere(to)
	}
	if !strings.Contains(out, "web1: "+from+" -> "+to) {
		t.Errorf("no report of the upgrade:\n%s", out)
	}

	// Again: nothing to do on the upgraded hosts.
	code, out = playbook()
	if code != 2 {
		t.Fatalf("second ansible-playbook: exit %d, want 2 (the blocked host):\n%s", code, out)
	}
	rec = recap(out)
	for _, name := range names[1:] {
		if rec[name]["failed"] != "0" || rec[name]["changed"] != "0" {
			t.Errorf("second run on %s: recap %v, want nothing changed:\n%s", name, rec[name], out)
		}
	}

	ansibleBusyHost(t, busy, playbookCmd)
}

// ansibleBusyHost runs the role on a host whose lock a live run holds:
// an apply stuck in freebsd-update fetch (a hang fault). The role must
// wait on zupgrade status --json ("live": true) and run nothing else; once
// the test sees it waiting (ansible's retry line) it stops that apply,
// and the role then resumes the run and ends it, never meeting the lock
// (exit 5).
func ansibleBusyHost(t *testing.T, busy *testHost, playbookCmd func(...string) *exec.Cmd) {
	if err := busy.m.AddFault(simhost.Fault{Command: "freebsd-update", Args: "fetch", Action: simhost.FaultHang, Message: hangMessage}); err != nil {
		t.Fatal(err)
	}
	apply := exec.Command(busy.exe, "--state-dir", busy.state, "apply", "--no-reboot")
	apply.Env, apply.Dir = busy.m.Env(), busy.m.Root
	// The hung fetch's own message: zupgrade prints the command line
	// before the command runs.
	applyLog := &watchWriter{want: hangMessage, seen: make(chan struct{})}
	apply.Stdout, apply.Stderr = applyLog, applyLog
	p, err := busy.m.Start(apply)
	if err != nil {
		t.Fatal(err)
	}
	applyDone := make(chan error, 1)
	go func() { applyDone <- p.Wait() }()
	select {
	case <-applyLog.seen: // the run is in the hung fetch, holding the lock
	case err := <-applyDone:
		t.Fatalf("apply ended (%v) before its fetch:\n%s", err, applyLog)
	}
	if (steps.Store{Dir: busy.state}).Owner() == nil {
		t.Fatalf("the apply does not hold the lock:\n%s", applyLog)
	}

	// Patches of the running release (zupgrade_to empty), status read
	// again a second apart.
	cmd := playbookCmd("-l", "busy", "-e", "zupgrade_to=", "-e", "zupgrade_live_delay=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	waited := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		l := sc.Text()
		log.WriteString(l + "\n")
		if !waited && strings.Contains(l, "RETRYING") && strings.Contains(l, "[busy]") && strings.Contains(l, "Wait while a zupgrade run is live") {
			waited = true
			// The live run ends: an admin stops it (SIGTERM, which
			// zupgrade heeds once the running command ends) and its
			// hung fetch with it.
			stopRun(apply.Process.Pid)
			<-applyDone
		}
	}
	code := 0
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	if !waited {
		stopRun(apply.Process.Pid)
		<-applyDone
		t.Fatalf("the role did not wait on the live run (exit %d):\n%s\napply:\n%s", code, log.String(), applyLog)
	}
	if code != 0 || recap(log.String())["busy"]["failed"] != "0" {
		t.Fatalf("ansible-playbook on the busy host: exit %d:\n%s", code, log.String())
	}
	if strings.Contains(log.String(), "another zupgrade run holds") {
		t.Errorf("the role ran apply while the run was live:\n%s", log.String())
	}
	busy.assertDone(0, log.String())
	if got := busy.sh("freebsd-version", "-u"); got != "14.3-RELEASE-p6\n" {
		t.Errorf("busy: freebsd-version -u = %q, want 14.3-RELEASE-p6", got)
	}
}

// watchWriter keeps what is written to it and closes seen once it holds
// want.
type watchWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if bytes.Contains(w.buf.Bytes(), []byte(w.want)) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// stopRun stops a zupgrade run as an admin would: SIGTERM to zupgrade,
// which stops at the next safe point, and SIGTERM to the commands it runs
// (its children, each in a session of its own), so that the one running
// ends. The test host is Linux: the children are found by their parent in
// /proc/PID/stat.
func stopRun(pid int) {
	syscall.Kill(pid, syscall.SIGTERM)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, not ")".
		rest := stat[bytes.LastIndexByte(stat, ')')+1:]
		if f := strings.Fields(string(rest)); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			syscall.Kill(child, syscall.SIGTERM)
		}
	}
}
