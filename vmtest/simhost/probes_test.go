// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// installDir is the pending-install directory probe 16 lists.
const installDir = "/var/db/freebsd-update/f465c3739385890c221dff1a05e578c6cae0d0430e46996d319db7439f884336-install/"

// TestInspectionProbes runs every inspection probe of docs/commands.md on
// machines of each preset and checks exit statuses and the facts the
// outputs must carry.
func TestInspectionProbes(t *testing.T) {
	type want struct {
		argv []string
		code int
		// has are substrings of stdout (or stderr when prefixed "2>").
		has []string
	}
	cases := []struct {
		name  string
		spec  Spec
		wants []want
	}{
		{
			name: "bios+uefi 14.2 mirror",
			spec: Spec{Preset: "bios+uefi", Release: "14.2-RELEASE", Disks: 2},
			wants: []want{
				{[]string{"id", "-u"}, 0, []string{"0\n"}},
				{[]string{"uname", "-s", "-r", "-m"}, 0, []string{"FreeBSD 14.2-RELEASE amd64\n"}},
				{[]string{"freebsd-version", "-kru"}, 0, []string{"14.2-RELEASE\n14.2-RELEASE\n14.2-RELEASE\n"}},
				{[]string{"sysctl", "machdep.bootmethod", "security.jail.jailed", "kern.osreldate"}, 0, []string{"machdep.bootmethod: UEFI\n", "security.jail.jailed: 0\n", "kern.osreldate: 1402000\n"}},
				{[]string{"kenv", "-q", "vfs.root.mountfrom"}, 0, []string{"zfs:zroot/ROOT/default\n"}},
				{[]string{"mount", "-p"}, 0, []string{"zroot/ROOT/default\t/\t\t\tzfs\t", "/dev/gpt/efiboot0\t/boot/efi\t\tmsdosfs\trw\t\t2 2\n"}},
				{[]string{"zpool", "status"}, 0, []string{"  pool: zroot\n state: ONLINE\n", "\t    ada0p4  ONLINE       0     0     0\n", "\t    ada1p4  ONLINE"}},
				{[]string{"zpool", "get", "-H", "-p", "all"}, 0, []string{"zroot\tbootfs\tzroot/ROOT/default\tlocal\n", "zroot\thealth\tONLINE\t-\n", "zroot\tcompatibility\toff\tdefault\n", "zroot\tfeature@head_errlog\tactive\tlocal\n"}},
				{[]string{"zpool", "upgrade"}, 0, []string{"This system supports ZFS pool feature flags.\n", "Every feature flags pool has all supported and requested features enabled.\n"}},
				{[]string{"zfs", "upgrade"}, 0, []string{"All filesystems are formatted with the current version.\n"}},
				{[]string{"gpart", "list"}, 0, []string{"Geom name: ada0\n", "   type: freebsd-boot\n   index: 2\n", "   label: efiboot1\n", "   rawuuid: "}},
				{[]string{"glabel", "status"}, 0, []string{"gpt/efiboot0     N/A  ada0p1\n"}},
				{[]string{"bectl", "check"}, 0, nil},
				{[]string{"bectl", "list", "-H"}, 0, []string{"default\tNR\t/\t"}},
				{[]string{"freebsd-update", "updatesready"}, 2, []string{"No updates are available to install.\n"}},
				{[]string{"ls", "-1", installDir}, 1, []string{"2>No such file or directory"}},
				{[]string{"cat", "/var/db/freebsd-update/tag"}, 1, []string{"2>cat: /var/db/freebsd-update/tag: No such file or directory\n"}},
				{[]string{"grep", "-n", "-F", "-e", `P="[`, "-e", "libsys", "/usr/sbin/freebsd-update"}, 0, []string{`P="[-+./:=,%@_[~[:alnum:]]"`}},
				{[]string{"pkg", "-N"}, 0, []string{"2>pkg: 3 packages installed\n"}},
				{[]string{"pkg", "config", "ABI"}, 0, []string{"FreeBSD:14:amd64\n"}},
				{[]string{"pkg", "which", "-q", "/usr/bin/uname"}, 1, nil},
				{[]string{"efibootmgr", "-v"}, 0, []string{"BootCurrent: 0000\n", "+Boot0000* FreeBSD HD(1,GPT,", "/File(\\efi\\freebsd\\loader.efi)\n", "ada0p1:/efi/freebsd/loader.efi /boot/efi/"}},
				{[]string{"file", "-s", "/dev/ada0p1", "/dev/ada1p1"}, 0, []string{"/dev/ada0p1: DOS/MBR boot sector", "FAT (32 bit)", "/dev/ada1p1: data\n"}},
				{[]string{"sha256", "-r", "/boot/loader.efi", "/boot/efi/efi/freebsd/loader.efi", "/boot/efi/efi/boot/bootx64.efi"}, 0, []string{" /boot/loader.efi\n", " /boot/efi/efi/freebsd/loader.efi\n"}},
			},
		},
		{
			name: "bios 13.2 mirror gpt labels",
			spec: Spec{Preset: "bios", Release: "13.2-RELEASE-p4", Disks: 2, Naming: "gpt-label"},
			wants: []want{
				{[]string{"uname", "-s", "-r", "-m"}, 0, []string{"FreeBSD 13.2-RELEASE-p4 amd64\n"}},
				{[]string{"sysctl", "machdep.bootmethod", "security.jail.jailed", "kern.osreldate"}, 0, []string{"machdep.bootmethod: BIOS\n", "kern.osreldate: 1302000\n"}},
				{[]string{"zpool", "status"}, 0, []string{"\t    gpt/zfs0  ONLINE       0     0     0\n"}},
				{[]string{"gpart", "list"}, 0, []string{"   type: freebsd-boot\n   index: 1\n"}},
				{[]string{"glabel", "status"}, 0, []string{"gpt/zfs0     N/A  ada0p3\n", "gptboot1     N/A  ada1p1\n"}},
				{[]string{"efibootmgr", "-v"}, 1, []string{"2>efibootmgr: efi variables not supported on this system. root? kldload efirt?\n"}},
				{[]string{"mount", "-p"}, 0, []string{"zroot/ROOT/default\t/\t"}},
				{[]string{"pkg", "config", "ABI"}, 0, []string{"FreeBSD:13:amd64\n"}},
			},
		},
		{
			name: "uefi 14.3 three-way nvme",
			spec: Spec{Preset: "uefi", Release: "14.3-RELEASE-p5", Disks: 3, DiskPrefix: "nda", Naming: "gptid"},
			wants: []want{
				{[]string{"zpool", "status"}, 0, []string{"\t    gptid/", "\t  mirror-0  "[:0]}},
				{[]string{"gpart", "list"}, 0, []string{"Geom name: nda2\n"}},
				{[]string{"file", "-s", "/dev/nda0p1", "/dev/nda1p1", "/dev/nda2p1"}, 0, []string{"/dev/nda2p1: data\n"}},
				{[]string{"grep", "-n", "-F", "-e", `P="[`, "-e", "libsys", "/usr/sbin/freebsd-update"}, 0, []string{`P="[`}},
			},
		},
		{
			name: "bios 8.2 legacy pool",
			spec: Spec{Preset: "bios", Release: "8.2-RELEASE", Disks: 2, Naming: "gpt-label"},
			wants: []want{
				{[]string{"uname", "-s", "-r", "-m"}, 0, []string{"FreeBSD 8.2-RELEASE amd64\n"}},
				{[]string{"freebsd-version", "-kru"}, 127, []string{"2>freebsd-version: Command not found.\n"}},
				{[]string{"sysctl", "machdep.bootmethod", "security.jail.jailed", "kern.osreldate"}, 1, []string{"security.jail.jailed: 0\n", "kern.osreldate: 802000\n", "2>sysctl: unknown oid 'machdep.bootmethod'\n"}},
				{[]string{"kenv", "-q", "vfs.root.mountfrom"}, 0, []string{"zfs:zroot\n"}},
				{[]string{"zpool", "upgrade"}, 0, []string{"This system is currently running ZFS pool version 15.\n\nAll pools are formatted using this version.\n"}},
				{[]string{"zfs", "upgrade"}, 0, []string{"This system is currently running ZFS filesystem version 4.\n"}},
				{[]string{"bectl", "check"}, 127, []string{"2>bectl: Command not found.\n"}},
				{[]string{"pkg", "-N"}, 127, nil},
				{[]string{"grep", "-n", "-F", "-e", `P="[`, "-e", "libsys", "/usr/sbin/freebsd-update"}, 0, []string{`P="[-+./:=_[[:alnum:]]"`}},
				{[]string{"zpool", "get", "-H", "-p", "all"}, 0, []string{"zroot\tversion\t15\tlocal\n"}},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := newMachine(t, c.spec)
			for _, w := range c.wants {
				r := tm.run(w.argv...)
				if r.code != w.code {
					t.Errorf("%s: exit %d, want %d\n%v", strings.Join(w.argv, " "), r.code, w.code, r)
					continue
				}
				for _, h := range w.has {
					text, s := r.out, h
					if strings.HasPrefix(h, "2>") {
						text, s = r.err, h[2:]
					}
					if !strings.Contains(text, s) {
						t.Errorf("%s: output lacks %q\n%v", strings.Join(w.argv, " "), s, r)
					}
				}
			}
		})
	}
}

// TestProbesThroughLinks runs probes as processes through the bin/ links,
// finding the machine from the links' location and from $SIMHOST_ROOT.
func TestProbesThroughLinks(t *testing.T) {
	t.Parallel()
	m, err := New(t.TempDir(), Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", Disks: 2}, simhostBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, withRoot := range []bool{false, true} {
		// As a process started through PATH sees it: argv[0] is the bare name.
		cmd := &exec.Cmd{Path: m.LinkPath("/sbin/zpool"), Args: []string{"zpool", "status"}}
		cmd.Env = []string{"PATH=" + m.MapPATH("/sbin"), "LC_ALL=C"}
		if withRoot {
			cmd.Env = m.Env()
		}
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "  pool: zroot\n") {
			t.Errorf("zpool status through the links (SIMHOST_ROOT %v): %v\n%s", withRoot, err, out)
		}
	}
	cmd := exec.Command(m.LinkPath("/bin/freebsd-version"), "-kru")
	cmd.Env = m.Env()
	out, err := cmd.Output()
	if err != nil || string(out) != "14.1-RELEASE\n14.1-RELEASE\n14.1-RELEASE\n" {
		t.Errorf("freebsd-version -kru: %v %q", err, out)
	}
	// A command the simulated host does not know is not in bin/ at all.
	if _, err := os.Stat(m.LinkPath("/usr/sbin/portsnap")); err == nil {
		t.Errorf("bin/ holds portsnap, which is not simulated")
	}
}

// TestUnknownFailsLoudly checks that unknown commands, subcommands and
// flags fail with 127 and say what is not simulated.
func TestUnknownFailsLoudly(t *testing.T) {
	tm := newMachine(t, Spec{Release: "14.2-RELEASE"})
	for _, argv := range [][]string{
		{"portsnap", "fetch"},
		{"zpool", "scrub", "zroot"},
		{"gpart", "add", "-t", "efi", "ada0"},
		{"ls", "-l", "/"},
		{"sysctl", "kern.geom.confxml"},
		{"bectl", "rename", "default", "other"},
	} {
		r := tm.run(argv...)
		if r.code != 127 || !strings.Contains(r.err, "not simulated") {
			t.Errorf("%s: want exit 127 saying what is not simulated, got %v", strings.Join(argv, " "), r)
		}
	}
}

// configBlock is the NAME ... table of zpool status.
func configBlock(s string) string { return section(s, "NAME", "errors:") }

func normalizeBlank(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestZpoolStatusLikeFixtures compares zpool status with captured output
// of real hosts of the same layout.
func TestZpoolStatusLikeFixtures(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "13.2-RELEASE", Disks: 2, Naming: "gpt-label"})
	got := configBlock(tm.must("zpool", "status"))
	want := configBlock(fixture(t, "zpool-status-mirror-gpt-zfsN-labels.txt"))
	if normalizeBlank(got) != normalizeBlank(want) {
		t.Errorf("zpool status config:\n%s\nwant (fixture):\n%s", got, want)
	}

	if err := tm.RemoveDisk("ada0"); err != nil {
		t.Fatal(err)
	}
	out := tm.must("zpool", "status")
	guid := regexp.MustCompile(`\b\d{12,20}\b`)
	got = guid.ReplaceAllString(configBlock(out), "GUID")
	fx := fixture(t, "zpool-status-mirror-degraded-gptlabel-guid.txt")
	want = guid.ReplaceAllString(configBlock(fx), "GUID")
	// The GUID column is wider or narrower with another GUID; compare fields.
	if fieldsOf(got) != fieldsOf(want) {
		t.Errorf("degraded zpool status config:\n%s\nwant (fixture):\n%s", got, want)
	}
	for _, line := range []string{" state: DEGRADED\n", "status: One or more devices could not be opened.  Sufficient replicas exist for\n\tthe pool to continue functioning in a degraded state.\n", "action: Attach the missing device and online it using 'zpool online'.\n"} {
		if !strings.Contains(out, line) {
			t.Errorf("degraded zpool status lacks %q:\n%s", line, out)
		}
	}
}

func fieldsOf(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			out = append(out, strings.Join(f, " "))
		}
	}
	return strings.Join(out, "\n")
}

// TestGpartShowLikeFixture reproduces a real bsdinstall BIOS+UEFI disk.
func TestGpartShowLikeFixture(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "13.2-RELEASE", Disks: 1, DiskSize: "256060510720"})
	got := tm.must("gpart", "show")
	want := section(fixture(t, "gpart-show-uefi-bios-bsdinstall-260M-ada0.txt"), "=>", "\x00")
	if strings.TrimSpace(got) != strings.TrimSpace(want) {
		t.Errorf("gpart show:\n%s\nwant (fixture):\n%s", got, want)
	}
}

// TestGlabelStatusFormat checks the column layout against a capture.
func TestGlabelStatusFormat(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "13.2-RELEASE", Disks: 2, Naming: "partition"})
	out := tm.must("glabel", "status")
	header := strings.Split(out, "\n")[0]
	if !regexp.MustCompile(`^ +Name  Status  Components$`).MatchString(header) {
		t.Errorf("header %q", header)
	}
	row := regexp.MustCompile(`^ *\S+     N/A  \S+$`)
	for _, l := range strings.Split(fixture(t, "glabel-status-samples.txt"), "\n") {
		if !strings.Contains(l, "N/A") {
			continue
		}
		if l = strings.TrimRight(l, " "); !row.MatchString(l) {
			t.Fatalf("fixture row %q does not match the row pattern", l)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		if !row.MatchString(l) || len(l) != len(header)-len("  Status  Components")+len("     N/A  ")+len(strings.Fields(l)[2]) {
			t.Errorf("row %q is not aligned with header %q", l, header)
		}
	}
	// The pool opens its members as adaXp3: their gpt/zfsN labels wither.
	if strings.Contains(out, "gpt/zfs0") {
		t.Errorf("glabel status shows gpt/zfs0 although the pool uses ada0p3:\n%s", out)
	}
}

// TestEfibootmgrFormat checks entry lines against a capture.
func TestEfibootmgrFormat(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "uefi", Release: "13.2-RELEASE", Disks: 1})
	out := tm.must("efibootmgr", "-v")
	fx := fixture(t, "efibootmgr-v-single-freebsd-entry.txt")
	entry := regexp.MustCompile(`(?m)^\+Boot[0-9A-F]{4}\* FreeBSD HD\(1,GPT,[0-9a-f-]{36},0x28,0x[0-9a-f]+\)/File\(\\efi\\freebsd\\loader\.efi\)$`)
	mapping := regexp.MustCompile(`(?m)^ {22}ada0p1:/efi/freebsd/loader\.efi `)
	for _, text := range []string{fx, out} {
		if !entry.MatchString(text) || !mapping.MatchString(text) {
			t.Errorf("efibootmgr -v output does not have the entry layout:\n%s", text)
		}
	}
}

// TestEveryReleaseAndPreset makes a machine of every release and layout
// (and naming style), checks that it boots, and that no inspection probe
// reaches something the simulated host does not model.
func TestEveryReleaseAndPreset(t *testing.T) {
	probes := [][]string{
		{"id", "-u"}, {"uname", "-s", "-r", "-m"}, {"freebsd-version", "-kru"},
		{"sysctl", "machdep.bootmethod", "security.jail.jailed", "kern.osreldate"},
		{"kenv", "-q", "vfs.root.mountfrom"}, {"mount", "-p"}, {"zpool", "status"},
		{"zpool", "get", "-H", "-p", "all"}, {"zpool", "upgrade"}, {"zfs", "upgrade"},
		{"gpart", "list"}, {"glabel", "status"}, {"bectl", "check"}, {"bectl", "list", "-H"},
		{"freebsd-update", "updatesready"}, {"ls", "-1", installDir},
		{"cat", "/var/db/freebsd-update/tag"},
		{"grep", "-n", "-F", "-e", `P="[`, "-e", "libsys", "/usr/sbin/freebsd-update"},
		{"pkg", "-N"}, {"pkg", "config", "ABI"}, {"pkg", "which", "-q", "/usr/bin/uname"},
		{"efibootmgr", "-v"}, {"file", "-s", "/dev/ada0p1", "/dev/ada1p1"},
		{"sha256", "-r", "/boot/loader.efi", "/boot/gptzfsboot", "/boot/pmbr"},
	}
	namings := []string{"partition", "gpt-label", "gptid", "diskid"}
	n := 0
	for _, rel := range knownReleases {
		for _, preset := range []string{"bios", "bios+uefi", "uefi"} {
			r := MustRelease(rel + "-RELEASE")
			if preset != "bios" && !r.Has(CapUEFI) {
				continue
			}
			naming, disks := namings[n%len(namings)], 2+n%3
			n++
			t.Run(fmt.Sprintf("%s/%s/%s/%d", rel, preset, naming, disks), func(t *testing.T) {
				tm := newMachine(t, Spec{Preset: preset, Release: r.String(), Naming: naming, Disks: disks})
				for _, p := range probes {
					res := tm.run(p...)
					if strings.Contains(res.err, "not simulated") || res.code > 2 && res.code != 127 {
						t.Errorf("%s: %v", strings.Join(p, " "), res)
					}
				}
				tm.mustOK("", "shutdown", "-r", "now")
				tm.mustBoot(BootOptions{})
				tm.mustOK("", "shutdown", "-r", "now")
				tm.mustBoot(BootOptions{FirstDisk: "ada1"})
			})
		}
	}
}
