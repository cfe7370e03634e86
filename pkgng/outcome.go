// SPDX-License-Identifier: BSD-2-Clause

package pkgng

import (
	"strconv"
	"strings"
)

// OSVersionMismatch is pkg's complaint that a package was built for another
// FreeBSD version than the running one:
//
//	Newer FreeBSD version for package pkg:
//	To ignore this error set IGNORE_OSVERSION=yes
//	- package: 1305000
//	- running userland: 1303001
//	Ignore the mismatch and continue? [y/N]:
type OSVersionMismatch struct {
	// Package is the package pkg complained about.
	Package string
	// PackageVersion is the __FreeBSD_version the package was built for.
	PackageVersion int
	// RunningVersion is the running one, and RunningOf what pkg measured:
	// "userland" (current pkg) or "kernel" (older pkg).
	RunningVersion int
	RunningOf      string
	// Prompted: pkg asked "Ignore the mismatch and continue? [y/N]"; with
	// no answer on standard input it stops there.
	Prompted bool
}

// Outcome is what pkg's output says beyond its exit status.
type Outcome struct {
	ExitCode int
	// Mismatch is set when pkg reported an OSVERSION mismatch.
	Mismatch *OSVersionMismatch
	// MajorUpgradeDetected: pkg warned "Major OS version upgrade detected.
	// Running "pkg bootstrap -f" recommended": pkg itself is built for the
	// old ABI.
	MajorUpgradeDetected bool
	// MissingLibraries lists the shared objects the run-time linker could
	// not find for pkg ("Shared object "libssl.so.111" not found, required
	// by "pkg""): the dynamic pkg no longer runs; use pkg-static.
	MissingLibraries []string
	// Evidence holds the lines that prove the findings.
	Evidence []string
}

const (
	msgNewer         = "Newer FreeBSD version for package "
	msgPackageVer    = "- package: "
	msgRunning       = "- running "
	msgIgnorePrompt  = "Ignore the mismatch and continue?"
	msgMajorUpgrade  = "Major OS version upgrade detected"
	msgSharedObject  = "Shared object \""
	msgNotFoundReqBy = "\" not found, required by "
)

// Classify reads pkg's standard output and standard error for the findings
// above.
func Classify(stdout, stderr []byte, exitCode int) Outcome {
	o := Outcome{ExitCode: exitCode}
	var lines []string
	for _, b := range [][]byte{stdout, stderr} {
		for _, l := range strings.Split(strings.ReplaceAll(string(b), "\r", ""), "\n") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, msgNewer):
			if o.Mismatch != nil {
				continue
			}
			m := &OSVersionMismatch{Package: strings.TrimSuffix(strings.TrimPrefix(l, msgNewer), ":")}
			o.Evidence = append(o.Evidence, l)
			// The details follow within a few lines.
			for _, d := range lines[i+1 : min(len(lines), i+6)] {
				switch {
				case strings.HasPrefix(d, msgPackageVer):
					m.PackageVersion, _ = strconv.Atoi(strings.TrimPrefix(d, msgPackageVer))
					o.Evidence = append(o.Evidence, d)
				case strings.HasPrefix(d, msgRunning):
					of, ver, ok := strings.Cut(strings.TrimPrefix(d, msgRunning), ": ")
					if ok {
						m.RunningOf = of
						m.RunningVersion, _ = strconv.Atoi(ver)
						o.Evidence = append(o.Evidence, d)
					}
				case strings.HasPrefix(d, msgIgnorePrompt):
					m.Prompted = true
					o.Evidence = append(o.Evidence, d)
				}
			}
			o.Mismatch = m
		case strings.Contains(l, msgMajorUpgrade):
			if !o.MajorUpgradeDetected {
				o.MajorUpgradeDetected = true
				o.Evidence = append(o.Evidence, l)
			}
		case strings.Contains(l, msgSharedObject) && strings.Contains(l, msgNotFoundReqBy):
			_, rest, _ := strings.Cut(l, msgSharedObject)
			lib, _, _ := strings.Cut(rest, "\"")
			o.MissingLibraries = append(o.MissingLibraries, lib)
			o.Evidence = append(o.Evidence, l)
		}
	}
	return o
}

// StallLine reports whether a line of pkg's output is a question that waits
// for an answer (which the environment of the commands built here should
// have made impossible). Whoever streams the output can stop the process
// on such a line instead of letting it wait.
func StallLine(line string) bool {
	line = strings.TrimSpace(line)
	return strings.HasPrefix(line, msgIgnorePrompt) ||
		strings.HasSuffix(line, "[y/N]:") || strings.HasSuffix(line, "[Y/n]:")
}
