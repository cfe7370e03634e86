// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bufio"
	"os"
	"strings"
)

// rcHeader is what rcorder(8) reads of an rc.d script: the words of its
// "# PROVIDE:", "# REQUIRE:", "# BEFORE:" and "# KEYWORD:" lines.
type rcHeader struct {
	provide, require, before, keyword []string
}

// readRCHeader reads a script's rcorder lines (sbin/rcorder/rcorder.c,
// crunch_file: the lines that begin with those markers, in the comment
// block at the top of the file). The file's name is what it provides when
// it has no PROVIDE line of its own.
func readRCHeader(path, file string) rcHeader {
	var h rcHeader
	f, err := os.Open(path)
	if err != nil {
		return rcHeader{provide: []string{file}}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			break
		}
		for marker, list := range map[string]*[]string{"# PROVIDE:": &h.provide, "# REQUIRE:": &h.require, "# BEFORE:": &h.before, "# KEYWORD:": &h.keyword} {
			if rest, ok := strings.CutPrefix(line, marker); ok {
				*list = append(*list, strings.Fields(rest)...)
			}
		}
	}
	if len(h.provide) == 0 {
		h.provide = []string{file}
	}
	return h
}

// rcorder orders scripts as rcorder(8) does (sbin/rcorder/rcorder.c,
// generate_ordering and do_file): each script comes after the scripts
// providing what it requires and before those it names in BEFORE; a
// requirement no script provides is met already (here: the base system's
// LOGIN, sshd, ... ran earlier in the boot), and a circular dependency is
// broken where it is found. Scripts with a keyword in skip (rc passes
// "-s nostart", and "-s nojail" in a jail: libexec/rc/rc) are left out.
// The order of scripts that do not depend on each other is left open by
// rcorder; here it is the order given (name order).
func rcorder(scripts []rcScript, skip ...string) []rcScript {
	headers := make([]rcHeader, len(scripts))
	providers := map[string][]int{}
	for i, s := range scripts {
		headers[i] = readRCHeader(s.real, s.name)
		for _, p := range headers[i].provide {
			providers[p] = append(providers[p], i)
		}
	}
	// BEFORE: X in script i means X's providers require i.
	requires := make([][]int, len(scripts))
	for i, h := range headers {
		for _, r := range h.require {
			requires[i] = append(requires[i], providers[r]...)
		}
		for _, b := range h.before {
			for _, j := range providers[b] {
				requires[j] = append(requires[j], i)
			}
		}
	}
	const (
		unseen = iota
		inProgress
		done
	)
	state := make([]int, len(scripts))
	var out []rcScript
	var visit func(i int)
	visit = func(i int) {
		if state[i] != unseen {
			return // done, or a circular dependency: rcorder warns and goes on
		}
		state[i] = inProgress
		for _, j := range requires[i] {
			visit(j)
		}
		state[i] = done
		for _, k := range headers[i].keyword {
			for _, s := range skip {
				if k == s {
					return
				}
			}
		}
		out = append(out, scripts[i])
	}
	for i := range scripts {
		visit(i)
	}
	return out
}
