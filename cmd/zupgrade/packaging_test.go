// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/steps"
)

// TestReleaseBuild runs the release build and checks, with go version -m,
// that each binary is for its FreeBSD platform, static, and stamped with
// the version, and that SHA256SUMS holds each binary's checksum.
func TestReleaseBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("two cross-builds: not in -short")
	}
	const version = "1.2.3-rc1"
	out := t.TempDir()
	if b, err := exec.Command("sh", "../../packaging/release.sh", version, out).CombinedOutput(); err != nil {
		t.Fatalf("release.sh: %v\n%s", err, b)
	}
	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			t.Fatalf("SHA256SUMS line %q", l)
		}
		listed[strings.TrimPrefix(f[1], "*")] = f[0]
	}
	for _, arch := range []string{"amd64", "arm64"} {
		bin := "zupgrade-" + version + "-freebsd-" + arch
		data, err := os.ReadFile(filepath.Join(out, bin))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if listed[bin] != hex.EncodeToString(sum[:]) {
			t.Errorf("SHA256SUMS says %q for %s, the file's is %x", listed[bin], bin, sum)
		}
		m, err := exec.Command("go", "version", "-m", filepath.Join(out, bin)).Output()
		if err != nil {
			t.Fatalf("go version -m %s: %v", bin, err)
		}
		info := string(m)
		for _, want := range []string{
			"\tbuild\tGOOS=freebsd\n",
			"\tbuild\tGOARCH=" + arch + "\n",
			"\tbuild\tCGO_ENABLED=0\n",
			"\tpath\tgithub.com/zupgrade/zupgrade/cmd/zupgrade\n",
		} {
			if !strings.Contains(info, want) {
				t.Errorf("%s: go version -m lacks %q:\n%s", bin, strings.TrimSpace(want), info)
			}
		}
		if !regexp.MustCompile(`\tbuild\t-ldflags=.*-X main\.version=` + regexp.QuoteMeta(version) + `\b`).MatchString(info) {
			t.Errorf("%s is not stamped with version %s:\n%s", bin, version, info)
		}
	}
	if len(listed) != 2 {
		t.Errorf("SHA256SUMS lists %d files, want the 2 binaries:\n%s", len(listed), sums)
	}
}

func TestReleaseBuildRefusesBadVersion(t *testing.T) {
	for _, v := range []string{"", "1.2", "v1.2.3", "1.2.3 -X main.x=y", "1.2.3;rm"} {
		out := t.TempDir()
		cmd := exec.Command("sh", "../../packaging/release.sh", v, out)
		b, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(b), "1.2.3") {
			t.Errorf("release.sh %q: %v, %s; want exit 2 saying what a version looks like", v, err, b)
		}
		if entries, _ := os.ReadDir(out); len(entries) > 0 {
			t.Errorf("release.sh %q wrote %d files", v, len(entries))
		}
	}
}

// TestFreeBSDPort checks that the port installs every file its pkg-plist
// lists, from files the repository has, and that its rc.d script is the
// boot hook zupgrade writes.
func TestFreeBSDPort(t *testing.T) {
	port := "../../packaging/freebsd"
	read := func(name string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(port, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	mk := read("Makefile")
	for _, want := range []string{"USES=\t\tgo:modules\n", "GO_MODULE=\tgithub.com/zupgrade/zupgrade\n", "USE_RC_SUBR=\tzupgrade\n", "-X main.version=${DISTVERSION}"} {
		if !strings.Contains(mk, want) {
			t.Errorf("the port's Makefile lacks %q", want)
		}
	}
	// Every file of ${WRKSRC} the port uses is in the repository.
	for _, m := range regexp.MustCompile(`\$\{WRKSRC\}/(\S+)`).FindAllStringSubmatch(mk, -1) {
		if _, err := os.Stat(filepath.Join("../..", m[1])); err != nil {
			t.Errorf("the port uses %s, which the repository lacks", m[1])
		}
	}
	target := regexp.MustCompile(`GO_TARGET=\t\./(\S+):\$\{PREFIX\}/(\S+)`).FindStringSubmatch(mk)
	if target == nil {
		t.Fatal("the port's Makefile has no GO_TARGET=./PKG:${PREFIX}/PATH")
	}
	if _, err := os.Stat(filepath.Join("../..", target[1], "main.go")); err != nil {
		t.Errorf("GO_TARGET builds %s, which is no command of the repository", target[1])
	}
	installed := map[string]bool{target[2]: true}
	for _, m := range regexp.MustCompile(`\$\{STAGEDIR\}\$\{PREFIX\}/(\S+)`).FindAllStringSubmatch(mk, -1) {
		installed[m[1]] = true
	}
	for _, l := range strings.Split(strings.TrimSpace(read("pkg-plist")), "\n") {
		if dir, ok := strings.CutPrefix(l, "@dir "); ok {
			if !strings.Contains(mk, "${STAGEDIR}"+dir) {
				t.Errorf("pkg-plist lists the directory %s, which the Makefile does not make", dir)
			}
			continue
		}
		p := strings.TrimSuffix(l, ".gz")
		if !installed[p] && !installed[filepath.Dir(p)] {
			t.Errorf("pkg-plist lists %s, which the Makefile does not install", l)
		}
	}
	for _, sh := range completionShells {
		if !strings.Contains(mk, "zupgrade completion "+sh+" >") {
			t.Errorf("the port does not install the %s completion", sh)
		}
	}
	if got, want := read("files/zupgrade.in"), string(steps.RCScript("%%PREFIX%%")); got != want {
		t.Errorf("files/zupgrade.in is not the boot hook zupgrade ships (steps/rc.d/zupgrade.in); want:\n%s", want)
	}
	if !strings.Contains(read("pkg-plist"), "@dir "+steps.DefaultLogDir+"\n") {
		t.Errorf("pkg-plist does not make %s", steps.DefaultLogDir)
	}
}

// TestNewsyslogEntry checks the port's newsyslog.conf.d file against
// newsyslog.conf(5) (usr.sbin/newsyslog/newsyslog.conf.5): each entry is
// logfilename, owner:group, an octal mode, a count, a size in kB or *, a
// when field, and flags; without a pid_file or signal field newsyslog
// signals syslogd unless the N flag is given, and a file name with shell
// wildcards needs G. The entries must cover the files zupgrade writes in
// its default log directory: resume.log (the rc.d script's daemon -o) and
// RUN.json (openRunLog).
func TestNewsyslogEntry(t *testing.T) {
	data, err := os.ReadFile("../../packaging/freebsd/files/newsyslog.conf")
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Fields(l)
		if len(f) != 7 {
			t.Errorf("%q: %d fields, want 7 (logfilename owner:group mode count size when flags)", l, len(f))
			continue
		}
		name, owner, mode, count, size, when, flags := f[0], f[1], f[2], f[3], f[4], f[5], f[6]
		if path.Dir(name) != steps.DefaultLogDir {
			t.Errorf("%q: the file is not in %s", l, steps.DefaultLogDir)
		}
		if !regexp.MustCompile(`^[a-z_]+:[a-z_]+$`).MatchString(owner) {
			t.Errorf("%q: owner:group %q", l, owner)
		}
		if !regexp.MustCompile(`^[0-7]{3}$`).MatchString(mode) || !regexp.MustCompile(`^[0-9]+$`).MatchString(count) || !regexp.MustCompile(`^([0-9]+|\*)$`).MatchString(size) {
			t.Errorf("%q: mode, count or size malformed", l)
		}
		if when != "*" && size == "*" {
			t.Errorf("%q: neither a size nor a time to rotate at", l)
		}
		if strings.Trim(flags, "BCDGJNRUXYZ") != "" || !strings.Contains(flags, "N") {
			t.Errorf("%q: flags %q: want letters of BCDGJNRUXYZ, N among them (no process to signal)", l, flags)
		}
		if strings.ContainsAny(name, "*?[") != strings.Contains(flags, "G") {
			t.Errorf("%q: the G flag goes with a file name pattern", l)
		}
		for _, file := range []string{"resume.log", "20260101T000000Z.json"} {
			if ok, _ := path.Match(path.Base(name), file); ok {
				covered[file] = true
			}
		}
	}
	if len(covered) != 2 {
		t.Errorf("the entries rotate %v; want resume.log and the RUN.json logs", covered)
	}
	if !strings.Contains(string(steps.RCScript("/usr/local")), `-o "${zupgrade_log_dir}/resume.log"`) {
		t.Error("the rc.d script's daemon no longer writes resume.log in the log directory")
	}
}
