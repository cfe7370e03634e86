// SPDX-License-Identifier: BSD-2-Clause

package pkgng

import (
	"fmt"
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// QueryFormat is the pkg query format zupgrade asks for: package name and
// package ABI, separated by one space.
const QueryFormat = "%n %q"

// QueryCommand names the query in errors, quoted as a shell needs it.
const QueryCommand = "pkg query '" + QueryFormat + "'"

// QueryArgs returns `pkg query '%n %q'` as an argv (the format is one
// argument).
func QueryArgs() []string { return []string{"pkg", "query", QueryFormat} }

// Package is an installed package and the ABI it was built for.
type Package struct {
	Name string
	ABI  ABI
	// RawABI is the ABI as pkg printed it.
	RawABI string
}

// ParseQuery parses the output of QueryArgs: one "NAME ABI" per line.
// Package names hold no white space, and neither do ABIs.
func ParseQuery(out []byte) ([]Package, error) {
	text := strings.TrimSuffix(strings.ReplaceAll(string(out), "\r", ""), "\n")
	if text == "" {
		return nil, nil
	}
	var pkgs []Package
	for i, line := range strings.Split(text, "\n") {
		perr := func(reason string) ([]Package, error) {
			return nil, &host.ParseError{Command: QueryCommand, Line: i + 1, Text: line, Reason: reason}
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return perr(fmt.Sprintf("%d fields, want a name and an ABI", len(f)))
		}
		a, err := ParseABI(f[1])
		if err != nil {
			return perr(err.Error())
		}
		pkgs = append(pkgs, Package{Name: f[0], ABI: a, RawABI: f[1]})
	}
	return pkgs, nil
}

// Stale returns the packages that were not built for system, in the order
// given: after a major upgrade, the ones still to be reinstalled.
func Stale(pkgs []Package, system ABI) []Package {
	var stale []Package
	for _, p := range pkgs {
		if !p.ABI.Fits(system) {
			stale = append(stale, p)
		}
	}
	return stale
}

// RepoQueryFormat asks for each package's name and the repository it came
// from (%R); pkg prints "unknown-repository" for a package installed
// without one: built from ports, or added from a file.
const RepoQueryFormat = "%n %R"

// RepoQueryCommand names the repository query in errors.
const RepoQueryCommand = "pkg query '" + RepoQueryFormat + "'"

// UnknownRepository is what pkg query %R prints for a package no
// repository installed.
const UnknownRepository = "unknown-repository"

// RepoQueryArgs returns `pkg query '%n %R'` as an argv.
func RepoQueryArgs() []string { return []string{"pkg", "query", RepoQueryFormat} }

// FromPorts parses the output of RepoQueryArgs and returns the packages no
// repository installed, in the order given, leaving out pkg itself: pkg(7)
// installs pkg from a file, so a bootstrapped pkg has no repository either.
func FromPorts(out []byte) ([]string, error) {
	text := strings.TrimSuffix(strings.ReplaceAll(string(out), "\r", ""), "\n")
	if text == "" {
		return nil, nil
	}
	var ports []string
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, &host.ParseError{Command: RepoQueryCommand, Line: i + 1, Text: line, Reason: fmt.Sprintf("%d fields, want a name and a repository", len(f))}
		}
		if f[1] == UnknownRepository && f[0] != "pkg" {
			ports = append(ports, f[0])
		}
	}
	return ports, nil
}
