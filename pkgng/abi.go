// SPDX-License-Identifier: BSD-2-Clause

package pkgng

import (
	"fmt"
	"strconv"
	"strings"
)

// ABI is a package ABI as pkg(8) writes it: OS:MAJOR:ARCH, e.g.
// FreeBSD:14:amd64. Packages with no architecture-specific content carry
// "*" as their architecture (FreeBSD:14:*).
type ABI struct {
	// OS is "FreeBSD" for FreeBSD packages.
	OS string
	// Major is the major version of the OS the package was built for.
	Major int
	// Arch is pkg's architecture name (amd64, aarch64, i386, armv7, ...)
	// or "*" for architecture-independent packages.
	Arch string
}

// String formats the ABI as pkg does.
func (a ABI) String() string { return fmt.Sprintf("%s:%d:%s", a.OS, a.Major, a.Arch) }

// IsZero reports whether a is the zero ABI.
func (a ABI) IsZero() bool { return a == ABI{} }

// Fits reports whether a package built for a runs on a system whose ABI is
// system: same OS and major version, and same architecture unless the
// package has none ("*").
func (a ABI) Fits(system ABI) bool {
	return a.OS == system.OS && a.Major == system.Major && (a.Arch == "*" || a.Arch == system.Arch)
}

// archNames are pkg's architecture names.
var archNames = map[string]bool{
	"amd64": true, "aarch64": true, "i386": true, "armv6": true, "armv7": true,
	"powerpc": true, "powerpcspe": true, "powerpc64": true, "powerpc64le": true, "riscv64": true,
}

// ParseABI parses an ABI string. Besides OS:MAJOR:ARCH it accepts the older
// form some packages still carry (freebsd:14:x86:64, freebsd:14:aarch64:64,
// freebsd:14:armv7:32:el:eabi:hardfp) and translates it.
func ParseABI(s string) (ABI, error) {
	f := strings.Split(s, ":")
	if len(f) < 3 {
		return ABI{}, fmt.Errorf("ABI %q: want OS:MAJOR:ARCH, e.g. FreeBSD:14:amd64", s)
	}
	var a ABI
	switch {
	case f[0] == "FreeBSD" || f[0] == "freebsd":
		a.OS = "FreeBSD"
	case isLetters(f[0]):
		a.OS = f[0]
	default:
		return ABI{}, fmt.Errorf("ABI %q: bad OS %q", s, f[0])
	}
	major, err := strconv.Atoi(f[1])
	if err != nil || major <= 0 || major > 999 || f[1] != strconv.Itoa(major) {
		return ABI{}, fmt.Errorf("ABI %q: bad major version %q", s, f[1])
	}
	a.Major = major
	switch rest := f[2:]; {
	case len(rest) == 1 && (rest[0] == "*" || archNames[rest[0]]):
		a.Arch = rest[0]
	case len(rest) == 2 && rest[0] == "x86" && rest[1] == "64":
		a.Arch = "amd64"
	case len(rest) == 2 && rest[0] == "x86" && rest[1] == "32":
		a.Arch = "i386"
	case len(rest) >= 2 && archNames[rest[0]] && (rest[1] == "32" || rest[1] == "64"):
		a.Arch = rest[0]
	default:
		return ABI{}, fmt.Errorf("ABI %q: unknown architecture %q", s, strings.Join(rest, ":"))
	}
	return a, nil
}

func isLetters(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// ExpectedABI returns the ABI of FreeBSD major version major on machine,
// which is what uname -p prints (amd64, aarch64, armv7, powerpc64, ...);
// uname -m's arm64 is accepted for aarch64. uname -m's arm, powerpc and
// riscv name several architectures and are refused.
func ExpectedABI(major int, machine string) (ABI, error) {
	if major <= 0 {
		return ABI{}, fmt.Errorf("expected ABI: bad major version %d", major)
	}
	arch := machine
	if machine == "arm64" {
		arch = "aarch64"
	}
	if !archNames[arch] {
		return ABI{}, fmt.Errorf("expected ABI: unknown machine %q (give uname -p)", machine)
	}
	return ABI{OS: "FreeBSD", Major: major, Arch: arch}, nil
}

// Activation is what pkg -N says about pkg(8) on the host.
type Activation int

// The answers of pkg -N.
const (
	// Activated: exit 0; pkg(8) is installed and its database holds
	// packages.
	Activated Activation = iota + 1
	// NotActivated: pkg(7), the bootstrap stub, answered, or pkg has no
	// database: no third-party packages are managed by pkg.
	NotActivated
	// NotInstalled: there is no pkg command at all (exit 127).
	NotInstalled
)

func (a Activation) String() string {
	switch a {
	case Activated:
		return "activated"
	case NotActivated:
		return "not activated"
	case NotInstalled:
		return "not installed"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// ActivationArgs returns `pkg -N`.
func ActivationArgs() []string { return []string{"pkg", "-N"} }

// ParseActivation interprets the exit status of pkg -N.
func ParseActivation(exitCode int) Activation {
	switch exitCode {
	case 0:
		return Activated
	case 127:
		return NotInstalled
	}
	return NotActivated
}
