// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"fmt"
	"strconv"
	"strings"
)

// Release is a FreeBSD release name such as 14.2-RELEASE-p3, split into
// its parts.
type Release struct {
	Major int
	Minor int
	// Branch is RELEASE, BETA2, RC1, STABLE or CURRENT.
	Branch string
	// Patch is the patch level (the -pN suffix), 0 when absent.
	Patch int
}

// ParseRelease reads a release name: MAJOR.MINOR-BRANCH[-pN].
func ParseRelease(s string) (Release, error) {
	var r Release
	s = strings.TrimSpace(s)
	ver, rest, ok := strings.Cut(s, "-")
	if !ok {
		return r, fmt.Errorf("release %q: want MAJOR.MINOR-BRANCH[-pN]", s)
	}
	maj, min, ok := strings.Cut(ver, ".")
	if !ok {
		return r, fmt.Errorf("release %q: want MAJOR.MINOR", s)
	}
	var err error
	if r.Major, err = strconv.Atoi(maj); err != nil || r.Major <= 0 {
		return r, fmt.Errorf("release %q: bad major version", s)
	}
	if r.Minor, err = strconv.Atoi(min); err != nil || r.Minor < 0 {
		return r, fmt.Errorf("release %q: bad minor version", s)
	}
	branch, patch, hasPatch := strings.Cut(rest, "-p")
	if branch == "" {
		return r, fmt.Errorf("release %q: missing branch", s)
	}
	r.Branch = branch
	if hasPatch {
		if r.Patch, err = strconv.Atoi(patch); err != nil || r.Patch < 0 {
			return r, fmt.Errorf("release %q: bad patch level", s)
		}
	}
	return r, nil
}

// MustRelease is ParseRelease for names known to be valid; it panics otherwise.
func MustRelease(s string) Release {
	r, err := ParseRelease(s)
	if err != nil {
		panic(err)
	}
	return r
}

// String prints the release as FreeBSD does: 14.2-RELEASE or 14.2-RELEASE-p3.
func (r Release) String() string {
	s := fmt.Sprintf("%d.%d-%s", r.Major, r.Minor, r.Branch)
	if r.Patch > 0 {
		s += fmt.Sprintf("-p%d", r.Patch)
	}
	return s
}

// Base is the release without its patch level (14.2-RELEASE).
func (r Release) Base() Release { r.Patch = 0; return r }

// IsZero reports whether r is the zero Release.
func (r Release) IsZero() bool { return r.Major == 0 }

// Compare orders releases by version, then branch (BETA < RC < RELEASE),
// then patch level. It returns -1, 0 or 1.
func (r Release) Compare(o Release) int {
	switch {
	case r.Major != o.Major:
		return sign(r.Major - o.Major)
	case r.Minor != o.Minor:
		return sign(r.Minor - o.Minor)
	}
	if c := sign(branchRank(r.Branch) - branchRank(o.Branch)); c != 0 {
		return c
	}
	return sign(r.Patch - o.Patch)
}

// AtLeast reports whether r is MAJOR.MINOR or newer, ignoring branch and patch.
func (r Release) AtLeast(major, minor int) bool {
	return r.Major > major || (r.Major == major && r.Minor >= minor)
}

func branchRank(b string) int {
	switch {
	case strings.HasPrefix(b, "ALPHA"):
		return 1
	case strings.HasPrefix(b, "BETA"):
		return 2
	case strings.HasPrefix(b, "RC"):
		return 3
	case b == "RELEASE":
		return 4
	default: // STABLE, CURRENT, PRERELEASE
		return 5
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// knownReleases are the releases the simulated update servers carry.
var knownReleases = []string{
	"8.2", "8.3", "8.4", "9.0", "9.1", "9.2", "9.3",
	"10.0", "10.1", "10.2", "10.3", "10.4",
	"11.0", "11.1", "11.2", "11.3", "11.4",
	"12.0", "12.1", "12.2", "12.3", "12.4",
	"13.0", "13.1", "13.2", "13.3", "13.4", "13.5",
	"14.0", "14.1", "14.2", "14.3",
	"15.0",
}

// Known reports whether the simulated update servers carry r (any
// RELEASE from 8.2 to 15.0, and BETA/RC builds of those).
func (r Release) Known() bool {
	v := fmt.Sprintf("%d.%d", r.Major, r.Minor)
	for _, k := range knownReleases {
		if k == v {
			return r.Branch == "RELEASE" || strings.HasPrefix(r.Branch, "BETA") || strings.HasPrefix(r.Branch, "RC")
		}
	}
	return false
}

// OSRelDate is the release's __FreeBSD_version (kern.osreldate,
// uname -K/-U, pkg's OSVERSION), modelled as MAJOR*100000 + MINOR*1000.
func (r Release) OSRelDate() int { return r.Major*100000 + r.Minor*1000 }

// ABI is pkg's ABI string for the release on arch, e.g. FreeBSD:14:amd64.
func (r Release) ABI(arch string) string { return fmt.Sprintf("FreeBSD:%d:%s", r.Major, arch) }

// zfsEra orders releases by the ZFS code they carry: 8.4 shipped the
// feature-flag ZFS of 9.2, so it sorts with 9.2.
func (r Release) zfsEra() int {
	if r.Major == 8 && r.Minor >= 4 {
		return 9*100 + 2
	}
	return r.Major*100 + r.Minor
}

// PoolVersion is the highest SPA version the release's ZFS (kernel and
// boot code) reads: legacy versions up to 9.1, 5000 (feature flags) after.
func (r Release) PoolVersion() int {
	switch e := r.zfsEra(); {
	case e >= 902:
		return 5000
	case e >= 803:
		return 28
	case e >= 802:
		return 15
	case e >= 801:
		return 14
	default:
		return 13
	}
}

// ZPLVersion is the highest ZFS file system version the release supports.
func (r Release) ZPLVersion() int {
	if r.zfsEra() >= 803 {
		return 5
	}
	return 4
}

// Has reports whether the release ships a base-system capability.
func (r Release) Has(c Capability) bool {
	switch c {
	case CapFreeBSDVersion:
		return r.AtLeast(10, 0)
	case CapBectl, CapEfibootmgr, CapBootMethodSysctl, CapLuaLoader:
		return r.AtLeast(12, 0)
	case CapPkg7:
		return r.AtLeast(9, 1)
	case CapUEFI:
		return r.AtLeast(10, 1)
	case CapCreateBootEnv:
		// install_create_be in freebsd-update.sh; the 13.1 release
		// brought it to 13.x (freebsd-doc pull request 72 notes it as
		// new there), and 12.3 shipped it too (a 12.3-RELEASE-p5
		// install made "12.3-RELEASE-p5_2022-06-11_212957", fixture
		// freebsd-update-install-be-snapshot-interrupted-13.2.txt).
		return r.AtLeast(13, 1) || (r.Major == 12 && r.Minor >= 3)
	case CapPkgbaseCheck:
		// check_pkgbase and its call before the commands run; a 14.1
		// script still ran on a pkgbase host (fixture
		// freebsd-update-upgrade-14.2-BETA2-pkgbase-host.txt).
		// Modelled as arriving with 14.3.
		return r.AtLeast(14, 3)
	case CapLibsys:
		return r.AtLeast(15, 0)
	case CapLibsysOrdering:
		// EN-25:18 (announced 2025-09-30, "freebsd-update(8) installs
		// libraries in incorrect order") taught install_from_index to
		// install libsys before libc. It went to the releases supported
		// then that have a later patch, 13.5 and 14.3, and is in 15.0;
		// 14.1 and 14.2 reached their end of life without it. The patch
		// levels are modelled: 13.5-RELEASE-p5 and 14.3-RELEASE-p6.
		switch {
		case r.AtLeast(15, 0):
			return true
		case r.Major == 14 && r.Minor == 3:
			return r.Patch >= 6
		case r.Major == 13 && r.Minor == 5:
			return r.Patch >= 5
		}
		return false
	case CapFixedSanityPattern:
		return r.AtLeast(8, 3)
	case CapESPMountedAtBootEFI:
		return r.AtLeast(13, 2)
	case CapCronOption:
		// EN-15:04 (13 May 2015) patched 8.4, 9.3 and 10.1 at some
		// patch level; 10.2-RELEASE is the first release that shipped
		// it. The errata patch levels are not modelled.
		return r.AtLeast(10, 2)
	case CapLocalRCConfD:
		// Present in 10.4's rc.subr, absent from 9.3's; modelled as
		// arriving with 10.0.
		return r.AtLeast(10, 0)
	}
	return false
}

// Capability names a base-system feature that appeared in some release.
type Capability int

// The capabilities whose presence depends on the release.
const (
	// CapFreeBSDVersion: freebsd-version(1) exists (10.0).
	CapFreeBSDVersion Capability = iota
	// CapBectl: bectl(8) exists (12.0).
	CapBectl
	// CapEfibootmgr: efibootmgr(8) exists (12.0).
	CapEfibootmgr
	// CapBootMethodSysctl: the machdep.bootmethod sysctl exists (12.0).
	CapBootMethodSysctl
	// CapLuaLoader: the loader runs /boot/lua scripts (12.0).
	CapLuaLoader
	// CapPkg7: /usr/sbin/pkg, the pkg(7) bootstrapper, is in base (9.1).
	CapPkg7
	// CapUEFI: the release can boot through UEFI (10.1).
	CapUEFI
	// CapCreateBootEnv: freebsd-update creates a boot environment on
	// install unless told not to (install_create_be; 12.3 and 13.1).
	CapCreateBootEnv
	// CapPkgbaseCheck: freebsd-update refuses to run on a packaged base
	// (check_pkgbase; 14.3).
	CapPkgbaseCheck
	// CapLibsys: libc depends on libsys.so.7 (15.0).
	CapLibsys
	// CapLibsysOrdering: freebsd-update installs libsys before libc (EN-25:18).
	CapLibsysOrdering
	// CapFixedSanityPattern: freebsd-update's metadata check accepts % and @ (8.3).
	CapFixedSanityPattern
	// CapESPMountedAtBootEFI: bsdinstall mounts the first ESP at /boot/efi via fstab.
	CapESPMountedAtBootEFI
	// CapCronOption: freebsd-update knows --not-running-from-cron (fetch
	// without a terminal) and -F (fetch over a half-installed upgrade),
	// from EN-15:04; older scripts print their usage for either.
	CapCronOption
	// CapLocalRCConfD: rc.subr's load_rc_config also reads
	// /usr/local/etc/rc.conf.d/NAME, and reads every file of an
	// rc.conf.d/NAME that is a directory (10.x).
	CapLocalRCConfD
)

// sharedLibs are the versioned base libraries of a major release that
// packages link against; install #3 removes those the new release lacks.
func sharedLibs(major int) []string {
	ssl := map[int]string{8: "6", 9: "6", 10: "7", 11: "8", 12: "111", 13: "111", 14: "30", 15: "35"}[major]
	if ssl == "" {
		ssl = "35"
	}
	util := "9"
	if major <= 8 {
		util = "8"
	}
	libs := []string{"/lib/libc.so.7", "/lib/libutil.so." + util, "/usr/lib/libssl.so." + ssl, "/lib/libcrypto.so." + ssl}
	if major >= 15 {
		libs = append(libs, "/lib/libsys.so.7")
	}
	return libs
}

// releaseDates are the days the FreeBSD releases that ship pkg(7) were
// announced (the release announcements on www.freebsd.org).
var releaseDates = map[string]string{
	"10.0": "2014-01-20", "10.1": "2014-11-14", "10.2": "2015-08-13", "10.3": "2016-04-04", "10.4": "2017-10-03",
	"11.0": "2016-10-10", "11.1": "2017-07-26", "11.2": "2018-06-27", "11.3": "2019-07-09", "11.4": "2020-06-16",
	"12.0": "2018-12-11", "12.1": "2019-11-04", "12.2": "2020-10-27", "12.3": "2021-12-07", "12.4": "2022-12-05",
	"13.0": "2021-04-13", "13.1": "2022-05-16", "13.2": "2023-04-11", "13.3": "2024-03-05", "13.4": "2024-09-17", "13.5": "2025-03-11",
	"14.0": "2023-11-20", "14.1": "2024-06-04", "14.2": "2024-12-03", "14.3": "2025-06-10",
	"15.0": "2025-12-02",
}

// pkgReleases are pkg(8) releases with the day each was tagged in
// freebsd/pkg (git tags; the last of each series a release could ship).
var pkgReleases = []struct{ version, date string }{
	{"1.2.5", "2014-01-13"}, {"1.3.8", "2014-09-21"}, {"1.5.6", "2015-08-11"}, {"1.7.1", "2016-04-02"},
	{"1.8.7", "2016-07-05"}, {"1.10.1", "2017-03-26"}, {"1.10.5", "2018-02-14"}, {"1.11.1", "2019-05-31"},
	{"1.12.0", "2019-09-18"}, {"1.14.4", "2020-04-29"}, {"1.15.10", "2020-10-11"}, {"1.16.3", "2021-02-18"},
	{"1.17.5", "2021-11-12"}, {"1.18.4", "2022-08-03"}, {"1.19.1", "2023-02-01"}, {"1.20.9", "2023-11-13"},
	{"1.21.3", "2024-05-22"}, {"2.0.6", "2025-02-11"}, {"2.1.4", "2025-05-25"}, {"2.4.2", "2025-11-05"},
}

// pkgVersionAt is the newest pkg(8) tagged on or before day (YYYY-MM-DD),
// the one a repository offered then.
func pkgVersionAt(day string) string {
	v := pkgReleases[0].version
	for _, p := range pkgReleases {
		if p.date <= day {
			v = p.version
		}
	}
	return v
}

// pkgVersionFor is the pkg(8) a host of the release has installed by
// default: the one its repository offered on the day of the release.
func pkgVersionFor(rel Release) string {
	return pkgVersionAt(releaseDates[fmt.Sprintf("%d.%d", rel.Major, rel.Minor)])
}
