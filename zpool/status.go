// SPDX-License-Identifier: BSD-2-Clause

package zpool

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// StatusCommand is the command line whose output ParseStatus reads.
const StatusCommand = "zpool status"

// Pool is one pool as `zpool status` prints it.
type Pool struct {
	// Name is the pool name from the "pool:" line.
	Name string
	// State is the pool health from the "state:" line: ONLINE, DEGRADED,
	// FAULTED, SUSPENDED, UNAVAIL, ...
	State string
	// Status and Action are the "status:" and "action:" paragraphs with their
	// continuation lines joined by single spaces; empty when not printed.
	Status string
	Action string
	// See is the URL of the "see:" line, empty when not printed.
	See string
	// Scans holds what the "scan:" lines (and the older "scrub:" lines) say,
	// in the order printed. A pool can print two: a scrub and a resilver.
	Scans []Scan
	// Checkpoint is the text of the "checkpoint:" line, empty without one.
	Checkpoint string
	// Errors is the text of the "errors:" line, e.g. "No known data errors".
	Errors string
	// ErrorFiles lists the files with permanent errors printed below the
	// "errors:" line (only with `zpool status -v`).
	ErrorFiles []string
	// Extra holds the other labelled paragraphs (remove:, expand:, condense:,
	// a config: line that says the configuration cannot be determined, ...)
	// by label, continuation lines joined by single spaces.
	Extra map[string]string
	// Root is the data tree of the config section, its top line named after
	// the pool; nil when no configuration was printed.
	Root *Vdev
	// Logs, Special, Dedup, Cache and Spares are the top-level vdevs printed
	// under the section lines of the same names.
	Logs    []*Vdev
	Special []*Vdev
	Dedup   []*Vdev
	Cache   []*Vdev
	Spares  []*Vdev
}

// VdevKind says what a line of the config tree is.
type VdevKind string

// Kinds of vdevs as zpool status names them. A vdev without members is a
// KindLeaf: a disk partition, a GEOM provider, a file, or a GUID standing in
// for a device that is missing.
const (
	KindRoot      VdevKind = "root"
	KindMirror    VdevKind = "mirror"
	KindRaidz1    VdevKind = "raidz1"
	KindRaidz2    VdevKind = "raidz2"
	KindRaidz3    VdevKind = "raidz3"
	KindDraid     VdevKind = "draid"
	KindReplacing VdevKind = "replacing"
	KindSpare     VdevKind = "spare"
	KindLeaf      VdevKind = "leaf"
)

// Vdev is one line of the config tree with the lines nested below it.
type Vdev struct {
	// Name is the name as printed: "mirror-0", "ada0p3", "gpt/zfs0",
	// "da0p2.eli", "/tank/file", or a GUID for a missing device.
	Name string
	Kind VdevKind
	// State is ONLINE, DEGRADED, FAULTED, OFFLINE, UNAVAIL, REMOVED, SPLIT,
	// or for hot spares AVAIL and INUSE.
	State string
	// Read, Write and Checksum are the error counters. Counters printed with
	// a unit suffix ("1.2K") are approximate; hot spares print none (zero).
	Read, Write, Checksum uint64
	// Note is the text printed after the counters, e.g. "was /dev/ada1p3",
	// "(resilvering)", "cannot open", "too many errors".
	Note string
	// Was is the device path from a "was /dev/..." note: where a missing
	// device was last seen. Empty without such a note.
	Was string
	// Children are the vdevs nested below this one.
	Children []*Vdev
}

// ScanKind says what a scan line reports.
type ScanKind string

// Kinds of scans.
const (
	// ScanNone is "none requested": no scrub or resilver ever ran.
	ScanNone       ScanKind = "none"
	ScanScrub      ScanKind = "scrub"
	ScanResilver   ScanKind = "resilver"
	ScanErrorScrub ScanKind = "error scrub"
)

// ScanState says where a scan stands.
type ScanState string

// States of a scan. A scan of kind ScanNone has an empty state.
const (
	ScanInProgress ScanState = "in progress"
	ScanPaused     ScanState = "paused"
	ScanFinished   ScanState = "finished"
	ScanCanceled   ScanState = "canceled"
)

// Scan is one "scan:" (or old-style "scrub:") line with its progress lines.
type Scan struct {
	Kind  ScanKind
	State ScanState
	// Line is the text after the label, as printed.
	Line string
	// Progress holds the indented lines that follow an active scan
	// ("1.2G / 10G scanned at ...", "3.00% done, ..."), trimmed.
	Progress []string
}

// Running reports whether the scan is in progress (a paused scrub is not).
func (s Scan) Running() bool { return s.State == ScanInProgress }

// vdevStates are the states zpool status prints for a vdev (libzfs
// zpool_state_to_name, plus AVAIL and INUSE for hot spares).
var vdevStates = map[string]bool{
	"ONLINE": true, "DEGRADED": true, "FAULTED": true, "OFFLINE": true,
	"UNAVAIL": true, "REMOVED": true, "SPLIT": true, "UNKNOWN": true,
	"AVAIL": true, "INUSE": true,
}

// poolStates are the states a "state:" line can carry.
var poolStates = map[string]bool{
	"ONLINE": true, "DEGRADED": true, "FAULTED": true, "OFFLINE": true,
	"UNAVAIL": true, "REMOVED": true, "SPLIT": true, "UNKNOWN": true,
	"SUSPENDED": true,
}

// sectionNames are the lines that open the non-data sections of the tree.
var sectionNames = map[string]bool{
	"logs": true, "cache": true, "spares": true, "special": true, "dedup": true,
}

// statusLabels are the labels zpool status prints at the left margin. Inside
// the config tree only these end the tree.
var statusLabels = map[string]bool{
	"pool": true, "state": true, "status": true, "action": true, "see": true,
	"scan": true, "scrub": true, "remove": true, "checkpoint": true,
	"expand": true, "condense": true, "config": true, "errors": true,
	"errata": true, "dedup": true,
}

var (
	// labelLine matches "  pool: zroot", " state: ONLINE", "config:".
	labelLine = regexp.MustCompile(`^ {0,4}([a-z]+):(?:[ \t]+(.*))?$`)
	// groupName matches the names of vdevs that hold other vdevs.
	groupName = regexp.MustCompile(`^(mirror|replacing|spare|raidz[123]?|draid[0-9][0-9a-z:]*)(-[0-9]+)?$`)
	// counterValue matches an error counter: "0", "12", "1.2K".
	counterValue = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?[KMGTPEZ]?$`)
)

type statusMode int

const (
	modeStart   statusMode = iota // before the first "pool:" line
	modeHeader                    // the labelled paragraphs above config
	modeTree                      // the config tree
	modeTrailer                   // after "errors:"
)

type treeFrame struct {
	indent  int
	vdev    *Vdev  // nil for a section line
	section string // "logs", "cache", ... for a section line
}

type statusParser struct {
	pools   []Pool
	cur     *Pool
	mode    statusMode
	noPools bool

	// continuation receives the indented lines that follow a label line.
	continuation func(string)
	prevBlank    bool

	// config tree state of the current pool
	counterCols int
	rootIndent  int
	stack       []treeFrame
	sawHeader   bool
	configLine  int
}

// ParseStatus parses the output of `zpool status` (any number of pools) into
// one Pool per "pool:" line, in the order printed. Output that says "no pools
// available", or is empty, yields no pools.
func ParseStatus(out string) ([]Pool, error) {
	p := &statusParser{}
	for i, line := range splitLines(out) {
		if err := p.line(i+1, line); err != nil {
			return nil, err
		}
	}
	if err := p.endPool(); err != nil {
		return nil, err
	}
	return p.pools, nil
}

func (p *statusParser) fail(n int, line, reason string) error {
	return &host.ParseError{Command: StatusCommand, Line: n, Text: line, Reason: reason}
}

func (p *statusParser) line(n int, line string) error {
	if strings.TrimSpace(line) == "" {
		p.prevBlank = true
		p.continuation = nil
		return nil
	}
	defer func() { p.prevBlank = false }()

	label, text, isLabel := splitLabel(line)
	switch p.mode {
	case modeStart:
		if isLabel && label == "pool" {
			return p.startPool(n, line, text)
		}
		if strings.TrimSpace(line) == "no pools available" && !p.noPools {
			p.noPools = true
			return nil
		}
		return p.fail(n, line, `expected a "pool:" line`)
	case modeTree:
		if isLabel && statusLabels[label] {
			return p.headerLine(n, line, label, text)
		}
		return p.treeLine(n, line)
	case modeTrailer:
		if isLabel && label == "pool" {
			return p.startPool(n, line, text)
		}
		if !isLabel && isIndented(line) && strings.HasPrefix(p.cur.Errors, "Permanent errors") {
			p.cur.ErrorFiles = append(p.cur.ErrorFiles, strings.TrimSpace(line))
			return nil
		}
		return p.fail(n, line, `unexpected line after the "errors:" line`)
	}
	// modeHeader
	if isLabel {
		return p.headerLine(n, line, label, text)
	}
	if !isIndented(line) {
		return p.fail(n, line, "expected a labelled line (state:, status:, scan:, config:, errors:) or an indented continuation")
	}
	// The config: and NAME lines can be missing (seen on hosts and in pasted
	// output); the tree then starts at the line naming the pool.
	if startsTree(line, p.cur.Name) {
		if p.cur.Root != nil {
			return p.fail(n, line, "second config tree for the same pool")
		}
		p.beginTree()
		return p.treeLine(n, line)
	}
	if p.continuation != nil && !p.prevBlank {
		p.continuation(strings.TrimSpace(line))
		return nil
	}
	return p.fail(n, line, "indented line that continues nothing and does not start the config tree")
}

func (p *statusParser) startPool(n int, line, name string) error {
	if err := p.endPool(); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if name == "" || strings.Contains(name, "\t") {
		return p.fail(n, line, "expected a pool name after \"pool:\"")
	}
	p.pools = append(p.pools, Pool{Name: name})
	p.cur = &p.pools[len(p.pools)-1]
	p.mode = modeHeader
	p.continuation = nil
	p.sawHeader = false
	p.stack = nil
	p.configLine = 0
	return nil
}

func (p *statusParser) endPool() error {
	if p.cur == nil {
		return nil
	}
	pool := p.cur
	if pool.State == "" {
		return &host.ParseError{Command: StatusCommand, Reason: fmt.Sprintf("pool %s has no \"state:\" line", pool.Name)}
	}
	if pool.Root == nil && pool.Extra["config"] == "" {
		return &host.ParseError{Command: StatusCommand, Line: p.configLine, Reason: fmt.Sprintf("pool %s has no config tree", pool.Name)}
	}
	p.cur = nil
	return nil
}

func (p *statusParser) beginTree() {
	p.mode = modeTree
	p.continuation = nil
	p.counterCols = 3
	p.stack = nil
}

func (p *statusParser) headerLine(n int, line, label, text string) error {
	pool := p.cur
	if p.mode == modeTree && label != "pool" && label != "errors" {
		// Only a pool or errors line may follow the tree in zpool status
		// (dedup statistics need -D, which zupgrade does not use).
		return p.fail(n, line, fmt.Sprintf("unexpected %q line after the config tree", label+":"))
	}
	if p.mode == modeTree && pool.Root == nil {
		return p.fail(n, line, "config section without a device tree")
	}
	text = strings.TrimSpace(text)
	p.continuation = nil
	join := func(dst *string) func(string) {
		return func(s string) { *dst = strings.TrimSpace(*dst + " " + s) }
	}
	switch label {
	case "pool":
		return p.startPool(n, line, text)
	case "state":
		if pool.State != "" {
			return p.fail(n, line, "second \"state:\" line for the same pool")
		}
		if !poolStates[text] {
			return p.fail(n, line, "unknown pool state")
		}
		pool.State = text
	case "status":
		pool.Status = text
		p.continuation = join(&pool.Status)
	case "action":
		pool.Action = text
		p.continuation = join(&pool.Action)
	case "see":
		pool.See = text
	case "scan", "scrub":
		scan, err := classifyScan(text)
		if err != nil {
			return p.fail(n, line, err.Error())
		}
		pool.Scans = append(pool.Scans, scan)
		i := len(pool.Scans) - 1
		p.continuation = func(s string) { pool.Scans[i].Progress = append(pool.Scans[i].Progress, s) }
	case "checkpoint":
		pool.Checkpoint = text
	case "config":
		if pool.Root != nil || pool.Extra["config"] != "" {
			return p.fail(n, line, "second \"config:\" line for the same pool")
		}
		p.configLine = n
		if text != "" {
			// "config: The configuration cannot be determined."
			p.setExtra(label, text)
			return nil
		}
		p.beginTree()
	case "errors":
		pool.Errors = text
		p.mode = modeTrailer
	default:
		p.setExtra(label, text)
		p.continuation = func(s string) { p.setExtra(label, s) }
	}
	return nil
}

func (p *statusParser) setExtra(label, text string) {
	if p.cur.Extra == nil {
		p.cur.Extra = map[string]string{}
	}
	p.cur.Extra[label] = strings.TrimSpace(p.cur.Extra[label] + " " + text)
}

func (p *statusParser) treeLine(n int, line string) error {
	pool := p.cur
	indent, rest := indentation(line)
	fields := strings.Fields(rest)
	if pool.Root == nil {
		if len(fields) >= 2 && fields[0] == "NAME" && fields[1] == "STATE" {
			if p.sawHeader {
				return p.fail(n, line, "second NAME header in the config tree")
			}
			if len(fields) < 5 {
				return p.fail(n, line, "config header lacks the READ WRITE CKSUM columns")
			}
			p.sawHeader = true
			p.counterCols = len(fields) - 2
			return nil
		}
		v, err := parseVdevLine(rest, p.counterCols)
		if err != nil {
			return p.fail(n, line, err.Error())
		}
		if v.Name != pool.Name {
			return p.fail(n, line, fmt.Sprintf("the config tree should start with the pool %s", pool.Name))
		}
		v.Kind = KindRoot
		pool.Root = v
		p.rootIndent = indent
		p.stack = []treeFrame{{indent: indent, vdev: v}}
		return nil
	}
	if indent < p.rootIndent {
		return p.fail(n, line, "line is indented less than the pool's own line")
	}
	if indent == p.rootIndent {
		name := strings.TrimSpace(rest)
		if !sectionNames[name] {
			return p.fail(n, line, "a second top-level line in the config tree that is not logs, cache, spares, special or dedup")
		}
		p.stack = []treeFrame{{indent: indent, section: name}}
		return nil
	}
	for len(p.stack) > 0 && p.stack[len(p.stack)-1].indent >= indent {
		p.stack = p.stack[:len(p.stack)-1]
	}
	parent := p.stack[len(p.stack)-1] // the bottom frame has rootIndent < indent
	v, err := parseVdevLine(rest, p.counterCols)
	if err != nil {
		return p.fail(n, line, err.Error())
	}
	switch {
	case parent.vdev == nil:
		list := map[string]*[]*Vdev{
			"logs": &pool.Logs, "cache": &pool.Cache, "spares": &pool.Spares,
			"special": &pool.Special, "dedup": &pool.Dedup,
		}[parent.section]
		*list = append(*list, v)
	case parent.vdev.Kind == KindLeaf:
		return p.fail(n, line, fmt.Sprintf("%s is nested below %s, which is a device, not a mirror, raidz, draid, replacing or spare group", v.Name, parent.vdev.Name))
	default:
		parent.vdev.Children = append(parent.vdev.Children, v)
	}
	p.stack = append(p.stack, treeFrame{indent: indent, vdev: v})
	return nil
}

// startsTree reports whether an indented line is the NAME header of the
// config tree or the tree's first line: the pool's name (which may hold
// spaces) followed by a vdev state.
func startsTree(line, pool string) bool {
	rest := strings.TrimLeft(line, " \t")
	if f := strings.Fields(rest); len(f) >= 2 && f[0] == "NAME" && f[1] == "STATE" {
		return true
	}
	after, ok := strings.CutPrefix(rest, pool)
	if !ok || after == "" || (after[0] != ' ' && after[0] != '\t') {
		return false
	}
	f := strings.Fields(after)
	return len(f) > 0 && vdevStates[f[0]]
}

// parseVdevLine reads "NAME STATE [READ WRITE CKSUM [more columns]] [note]"
// where NAME may hold spaces (file vdevs) and is everything before the first
// state word.
func parseVdevLine(rest string, counterCols int) (*Vdev, error) {
	fields, starts := fieldsWithStarts(rest)
	si := -1
	for i := 1; i < len(fields); i++ {
		if vdevStates[fields[i]] {
			si = i
			break
		}
	}
	if si < 0 {
		return nil, fmt.Errorf("expected a device name followed by a state (ONLINE, DEGRADED, UNAVAIL, ...)")
	}
	v := &Vdev{Name: strings.TrimSpace(rest[:starts[si]]), State: fields[si]}
	j := si + 1
	if j < len(fields) && counterValue.MatchString(fields[j]) {
		if len(fields)-j < counterCols {
			return nil, fmt.Errorf("expected %d counter columns after the state", counterCols)
		}
		counters := []*uint64{&v.Read, &v.Write, &v.Checksum}
		for k, dst := range counters {
			c, err := parseCounter(fields[j+k])
			if err != nil {
				return nil, err
			}
			*dst = c
		}
		j += counterCols
	}
	if j < len(fields) {
		v.Note = strings.TrimSpace(rest[starts[j]:])
		if was, ok := strings.CutPrefix(v.Note, "was "); ok {
			v.Was, _, _ = strings.Cut(was, "  ")
			v.Was = strings.TrimSpace(v.Was)
		}
	}
	v.Kind = KindLeaf
	if m := groupName.FindStringSubmatch(v.Name); m != nil {
		switch base := m[1]; {
		case base == "mirror":
			v.Kind = KindMirror
		case base == "replacing":
			v.Kind = KindReplacing
		case base == "spare":
			v.Kind = KindSpare
		case base == "raidz" || base == "raidz1":
			v.Kind = KindRaidz1
		case base == "raidz2":
			v.Kind = KindRaidz2
		case base == "raidz3":
			v.Kind = KindRaidz3
		default:
			v.Kind = KindDraid
		}
	}
	return v, nil
}

// parseCounter reads an error counter as zfs_nicenum prints it: a plain
// number, or a number with a binary unit suffix ("1.2K" = 1.2 * 1024).
func parseCounter(s string) (uint64, error) {
	if !counterValue.MatchString(s) {
		return 0, fmt.Errorf("counter %q is not a number", s)
	}
	mult := 1.0
	if last := s[len(s)-1]; last < '0' || last > '9' {
		exp := strings.IndexByte("KMGTPEZ", last) + 1
		mult = math.Pow(1024, float64(exp))
		s = s[:len(s)-1]
	}
	if !strings.Contains(s, ".") && mult == 1 {
		return strconv.ParseUint(s, 10, 64)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("counter %q is not a number", s)
	}
	v := f * mult
	if v >= math.MaxUint64 {
		return math.MaxUint64, nil
	}
	return uint64(math.Round(v)), nil
}

// classifyScan reads the text of a scan: (or old scrub:) line.
func classifyScan(text string) (Scan, error) {
	s := Scan{Line: text}
	t := strings.ToLower(text)
	switch {
	case t == "none requested":
		s.Kind = ScanNone
		return s, nil
	case strings.HasPrefix(t, "error scrub"), strings.HasPrefix(t, "scrubbed "):
		s.Kind = ScanErrorScrub
	case strings.HasPrefix(t, "scrub"), strings.HasPrefix(t, "thorough scrub"):
		s.Kind = ScanScrub
	case strings.HasPrefix(t, "resilver"):
		s.Kind = ScanResilver
	default:
		return s, fmt.Errorf("unknown scan line (expected none requested, scrub or resilver)")
	}
	switch {
	case strings.Contains(t, " in progress"):
		s.State = ScanInProgress
	case strings.Contains(t, " paused"):
		s.State = ScanPaused
	case strings.Contains(t, " canceled"), strings.Contains(t, " cancelled"), strings.Contains(t, " stopped"):
		s.State = ScanCanceled
	case strings.Contains(t, "repaired"), strings.HasPrefix(t, "resilvered"),
		strings.Contains(t, " completed"), strings.HasPrefix(t, "scrubbed "):
		s.State = ScanFinished
	default:
		return s, fmt.Errorf("scan line says neither in progress, paused, canceled nor finished")
	}
	return s, nil
}

// splitLabel splits "  pool: zroot" into ("pool", "zroot", true). Lines that
// start with a tab are never labels: zpool indents continuations with tabs.
func splitLabel(line string) (label, text string, ok bool) {
	m := labelLine.FindStringSubmatch(line)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// isIndented reports whether line starts with white space.
func isIndented(line string) bool {
	return line != "" && (line[0] == ' ' || line[0] == '\t')
}

// indentation returns the width of line's leading white space, tabs counted
// to the next multiple of 8 as a terminal shows them, and the rest.
func indentation(line string) (int, string) {
	w := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case ' ':
			w++
		case '\t':
			w = (w/8 + 1) * 8
		default:
			return w, line[i:]
		}
	}
	return w, ""
}

// fieldsWithStarts splits s at runs of spaces and tabs and returns each
// field with its byte offset.
func fieldsWithStarts(s string) ([]string, []int) {
	var fields []string
	var starts []int
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			break
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		fields = append(fields, s[i:j])
		starts = append(starts, i)
		i = j
	}
	return fields, starts
}

// splitLines splits command output into lines without their line ends.
func splitLines(out string) []string {
	out = strings.TrimSuffix(out, "\n")
	if out == "" {
		return nil
	}
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}
