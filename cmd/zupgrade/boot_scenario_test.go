// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestLocalPATH: zupgrade adds to its PATH the /usr/local directory of
// every /usr/sbin and /usr/bin entry (hier(7)), so that the run the boot
// hook resumes with rc's PATH finds pkg-static and portmaster.
func TestLocalPATH(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/sbin:/bin:/usr/sbin:/usr/bin", "/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin"},
		{"/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin:/root/bin", "/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin:/root/bin"},
		{"/usr/bin:/bin", "/usr/bin:/bin:/usr/local/bin"},
		{"/usr/local/bin:/usr/sbin/", "/usr/local/bin:/usr/sbin/:/usr/local/sbin"},
		{"/m/bin/sbin:/m/bin/usr/sbin:/m/bin/usr/bin", "/m/bin/sbin:/m/bin/usr/sbin:/m/bin/usr/bin:/m/bin/usr/local/sbin:/m/bin/usr/local/bin"},
		{"/opt/tools", "/opt/tools"},
	} {
		got := withLocalPATH([]string{"HOME=/", "PATH=" + tt.in})
		if !slices.Equal(got, []string{"HOME=/", "PATH=" + tt.want}) {
			t.Errorf("PATH=%s: %q, want PATH=%s", tt.in, got, tt.want)
		}
	}
	if got := withLocalPATH([]string{"HOME=/"}); !slices.Equal(got, []string{"HOME=/"}) {
		t.Errorf("without PATH: %q", got)
	}
}

// TestResumeFindsLocalTools: the boot hook starts the resumed run with rc's
// PATH, /sbin:/bin:/usr/sbin:/usr/bin, and the steps it runs after the
// first reboot need tools in /usr/local/sbin: pkg-static for packages,
// portmaster for ports. The run must find them and end on the target.
func TestResumeFindsLocalTools(t *testing.T) {
	if testing.Short() {
		t.Skip("whole upgrades on simulated hosts; not in -short")
	}
	for _, tt := range []struct {
		name, packages, tool string
		spec                 simhost.Spec
	}{
		{"pkg", "pkg", "pkg-static upgrade -f -y", simhost.Spec{Preset: "bios", Release: "13.4-RELEASE"}},
		{"portmaster", "portmaster", "portmaster -aPf", simhost.Spec{Preset: "bios", Release: "13.4-RELEASE", Portmaster: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, tt.spec)
			h.process = true // the boot hook's own PATH is the point
			code, log := h.runUpgrade(nil, "--to", "14.2-RELEASE", "--packages", tt.packages)
			h.assertDone(code, log)
			h.assertBootsEverywhere("14.2-RELEASE")
			resumed := log[strings.Index(log, "--- resumed run"):]
			if !strings.Contains(resumed, "$ "+tt.tool) {
				t.Errorf("the resumed run did not run %s:\n%s", tt.tool, log)
			}
			for _, l := range strings.Split(strings.TrimSpace(h.sh("pkg", "query", "%n %q")), "\n") {
				if !strings.HasSuffix(l, ":14:amd64") {
					t.Errorf("package not rebuilt for 14: %s", l)
				}
			}
		})
	}
}

// TestResumeFromTmp: an admin copied zupgrade to /tmp and ran it from
// there, on a host with clear_tmp_enable=YES: /tmp is empty after the
// reboot (libexec/rc/rc.d/cleartmp runs before the local rc.d scripts).
// The boot hook must run a copy in a path that survives,
// /usr/local/sbin/zupgrade, and the run must end on the target.
func TestResumeFromTmp(t *testing.T) {
	if testing.Short() {
		t.Skip("whole upgrades on simulated hosts; not in -short")
	}
	t.Parallel()
	h := newHostWith(t, simhost.Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", ESPs: "all"}, "/tmp/zupgrade")
	h.process = true // the boot hook's run of its copy is the point
	h.sh("sysrc", "clear_tmp_enable=YES")
	binary, err := os.ReadFile(h.exe)
	if err != nil {
		t.Fatal(err)
	}
	code, log := h.runUpgrade(nil, "--to", "14.2-RELEASE")
	h.assertDone(code, log)
	h.assertBootsEverywhere("14.2-RELEASE")
	if _, err := os.Stat(h.exe); err == nil {
		t.Errorf("/tmp/zupgrade survived the reboots; the test proves nothing")
	}
	if !strings.Contains(log, "--- resumed run [/usr/local/sbin/zupgrade ") {
		t.Errorf("the boot hook did not run /usr/local/sbin/zupgrade:\n%s", log)
	}
	if got, err := os.ReadFile(h.m.HostPath("/usr/local/sbin/zupgrade")); err != nil || !bytes.Equal(got, binary) {
		t.Errorf("/usr/local/sbin/zupgrade is not the zupgrade that ran (%v)", err)
	}
}
