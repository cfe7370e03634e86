// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"strconv"
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// EFIBoot is the UEFI boot manager state as `efibootmgr -v` prints it.
// Boot numbers are four upper-case hex digits, as in "Boot0019".
type EFIBoot struct {
	// BootToFirmware is the "Boot to FW" flag; nil when not printed (the
	// firmware does not support booting to its setup).
	BootToFirmware *bool
	// BootNext is the entry the next boot uses once; empty when unset.
	BootNext string
	// BootCurrent is the entry the running system booted from; empty when
	// not printed.
	BootCurrent string
	// Timeout is the boot menu timeout in seconds; nil when not printed.
	Timeout *int
	// BootOrder is the firmware's boot order.
	BootOrder []string
	// Entries are the boot entries in the order printed (BootOrder first).
	// Variables listed under "Unreferenced Variables:" are left out.
	Entries []EFIBootEntry
	// Unreferenced are the entries listed under "Unreferenced Variables:"
	// (efibootmgr -v): the firmware does not try them, but one may be
	// BootCurrent (picked once in the boot menu, or BootNext).
	Unreferenced []EFIBootEntry
	// Missing are BootOrder numbers printed as "BootXXXX: MISSING!".
	Missing []string
}

// EFIBootEntry is one Boot#### variable.
type EFIBootEntry struct {
	// Num is the entry's number, e.g. "0019".
	Num string
	// Active is set for entries marked "*".
	Active bool
	// Current is set for the entry marked "+" (the one booted from).
	Current bool
	// Label is the entry's description, e.g. "FreeBSD".
	Label string
	// DevicePath is the entry's first UEFI device path, e.g.
	// `HD(1,GPT,<uuid>,0x28,0x82000)/File(\efi\freebsd\loader.efi)`.
	DevicePath string
	// MoreDevicePaths are further device paths of the entry, if any.
	MoreDevicePaths []string
	// FilePath is the argument of the File() node, e.g.
	// `\efi\freebsd\loader.efi`; empty when the path has none.
	FilePath string
	// Device is the FreeBSD provider efibootmgr mapped the path to, e.g.
	// "ada0p1"; empty when it printed no mapping.
	Device string
	// Path is the file on that provider, e.g. "/efi/freebsd/loader.efi".
	Path string
	// MountedPath is where that file is reachable now when the ESP is
	// mounted, e.g. "/boot/efi/efi/freebsd/loader.efi"; empty for "(null)".
	MountedPath string
}

// PartitionGUID returns the GPT partition GUID of the entry's HD() node in
// lower case, which is the rawuuid of the partition in gpart list; empty
// when the entry does not name a GPT partition.
func (e EFIBootEntry) PartitionGUID() string {
	_, after, ok := strings.Cut(e.DevicePath, "HD(")
	if !ok {
		return ""
	}
	args, _, ok := strings.Cut(after, ")")
	if !ok {
		return ""
	}
	f := strings.Split(args, ",")
	if len(f) < 3 || f[1] != "GPT" {
		return ""
	}
	return strings.ToLower(f[2])
}

// PointsAt reports whether the entry's file is path on its ESP, compared as
// FAT does (case-insensitive) and with either slash: `\EFI\freebsd\loader.efi`
// points at "/efi/freebsd/loader.efi".
func (e EFIBootEntry) PointsAt(path string) bool {
	norm := func(s string) string {
		s = strings.ReplaceAll(s, `\`, "/")
		if !strings.HasPrefix(s, "/") {
			s = "/" + s
		}
		return strings.ToLower(s)
	}
	file := e.FilePath
	if file == "" {
		file = e.Path
	}
	return file != "" && norm(file) == norm(path)
}

// ParseEfibootmgr reads the output of `efibootmgr -v` (or without -v, when
// entries have no device paths). Header lines, entries, their device path
// and the mapped "<provider>:<path> <mounted path>" line are recognised;
// entries after "Unreferenced Variables:" go to Unreferenced. Other lines return a
// *host.ParseError.
func ParseEfibootmgr(out string) (*EFIBoot, error) {
	const command = "efibootmgr -v"
	perr := func(line int, text, reason string) error {
		return &host.ParseError{Command: command, Line: line, Text: text, Reason: reason}
	}
	b := &EFIBoot{}
	var cur *EFIBootEntry
	list := &b.Entries
	for i, raw := range strings.Split(out, "\n") {
		lineNo := i + 1
		line := strings.TrimSpace(raw)
		if line == "" {
			continue
		}
		if line == "Unreferenced Variables:" {
			list, cur = &b.Unreferenced, nil
			continue
		}
		if e, ok, err := parseEFIEntryLine(line); ok {
			if err != "" {
				return nil, perr(lineNo, raw, err)
			}
			*list = append(*list, e)
			cur = &(*list)[len(*list)-1]
			continue
		}
		if num, ok := strings.CutSuffix(line, ": MISSING!"); ok {
			n, ok := strings.CutPrefix(num, "Boot")
			if !ok || !isBootNum(n) {
				return nil, perr(lineNo, raw, `expected "BootXXXX: MISSING!"`)
			}
			b.Missing = append(b.Missing, strings.ToUpper(n))
			cur = nil
			continue
		}
		if key, value, ok := strings.Cut(line, ":"); ok && efiHeaderKeys[strings.TrimSpace(key)] {
			if err := b.setHeader(strings.TrimSpace(key), strings.TrimSpace(value)); err != "" {
				return nil, perr(lineNo, raw, err)
			}
			cur = nil
			continue
		}
		if cur == nil {
			return nil, perr(lineNo, raw, "expected a header or a BootXXXX entry")
		}
		// The lines below an entry are indented; copies of the output
		// sometimes lose that, so indentation is not required.
		if isDevicePath(line) {
			if cur.DevicePath == "" {
				cur.DevicePath = line
				cur.FilePath = filePathOf(line)
			} else {
				cur.MoreDevicePaths = append(cur.MoreDevicePaths, line)
			}
			continue
		}
		dev, rel, abs, ok := splitEFIMapping(line)
		if !ok {
			return nil, perr(lineNo, raw, `expected "<provider>:<path> <mounted path>"`)
		}
		if cur.Device == "" {
			cur.Device, cur.Path, cur.MountedPath = dev, rel, abs
		}
	}
	return b, nil
}

// efiHeaderKeys are the header lines efibootmgr prints before the entries.
var efiHeaderKeys = map[string]bool{
	"Boot to FW": true, "BootNext": true, "BootCurrent": true, "Timeout": true, "BootOrder": true,
}

// setHeader records one "Key : value" header line; it returns a reason when
// the line is not understood.
func (b *EFIBoot) setHeader(key, value string) string {
	switch key {
	case "Boot to FW":
		v, err := strconv.ParseBool(value)
		if err != nil {
			return "expected true or false"
		}
		b.BootToFirmware = &v
	case "BootNext":
		if !isBootNum(value) {
			return "expected a boot number of four hex digits"
		}
		b.BootNext = strings.ToUpper(value)
	case "BootCurrent":
		if !isBootNum(value) {
			return "expected a boot number of four hex digits"
		}
		b.BootCurrent = strings.ToUpper(value)
	case "Timeout":
		n, err := strconv.Atoi(strings.TrimSuffix(value, " seconds"))
		if err != nil || n < 0 {
			return `expected "<n> seconds"`
		}
		b.Timeout = &n
	case "BootOrder":
		b.BootOrder = nil
		for _, f := range strings.Split(value, ",") {
			f = strings.TrimSpace(f)
			if !isBootNum(f) {
				return "expected boot numbers of four hex digits separated by commas"
			}
			b.BootOrder = append(b.BootOrder, strings.ToUpper(f))
		}
	}
	return ""
}

// parseEFIEntryLine reads "[+]BootXXXX[*] label devicepath". ok reports
// whether the line is an entry line at all; reason is set when it is one but
// malformed.
func parseEFIEntryLine(line string) (e EFIBootEntry, ok bool, reason string) {
	s := line
	if rest, cut := strings.CutPrefix(s, "+"); cut {
		e.Current = true
		s = rest
	}
	rest, cut := strings.CutPrefix(s, "Boot")
	if !cut || len(rest) < 4 || !isBootNum(rest[:4]) {
		return EFIBootEntry{}, false, ""
	}
	e.Num = strings.ToUpper(rest[:4])
	rest = rest[4:]
	switch {
	case rest == "":
		return e, true, ""
	case rest[0] == '*':
		e.Active = true
	case rest[0] == ' ' || rest[0] == '\t':
	default:
		// "Boot0005: MISSING!" and other non-entry lines.
		return EFIBootEntry{}, false, ""
	}
	rest = strings.TrimSpace(rest[1:])
	e.Label, e.DevicePath = splitLabelDevicePath(rest)
	e.FilePath = filePathOf(e.DevicePath)
	return e, true, ""
}

// splitLabelDevicePath splits "FreeBSD HD(...)/File(...)" into the label and
// the device path: the device path starts at the first word from which the
// rest of the line is a well-formed device path, so labels holding
// parentheses ("EFI Internal Shell (Unsupported option)") stay whole.
func splitLabelDevicePath(s string) (label, path string) {
	for i := 0; i < len(s); i++ {
		if i > 0 && s[i-1] != ' ' {
			continue
		}
		if isDevicePath(s[i:]) {
			return strings.TrimSpace(s[:i]), s[i:]
		}
	}
	return s, ""
}

// isDevicePath reports whether s is a UEFI device path in text form: nodes
// "Name(args)" joined by "/" (or "," between instances), args with balanced
// parentheses.
func isDevicePath(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	for {
		start := i
		for i < len(s) && (isASCIILetter(s[i]) || (i > start && (isASCIIDigit(s[i]) || s[i] == '_'))) {
			i++
		}
		if i == start || i >= len(s) || s[i] != '(' {
			return false
		}
		depth := 0
		for ; i < len(s); i++ {
			if s[i] == '(' {
				depth++
			} else if s[i] == ')' {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		if i >= len(s) {
			return false
		}
		i++ // past ')'
		if i == len(s) {
			return true
		}
		if s[i] != '/' && s[i] != ',' {
			return false
		}
		i++
	}
}

// filePathOf returns the argument of the first File() node of a device path.
func filePathOf(dp string) string {
	for _, node := range strings.Split(dp, "/") {
		if arg, ok := strings.CutPrefix(node, "File("); ok {
			return strings.TrimSuffix(arg, ")")
		}
	}
	return ""
}

// splitEFIMapping reads "<provider>:<path> <mounted path>", where the mounted
// path is "(null)" when the ESP is not mounted and otherwise ends with path.
func splitEFIMapping(s string) (dev, rel, abs string, ok bool) {
	dev, rest, found := strings.Cut(s, ":")
	if !found || dev == "" || strings.ContainsAny(dev, " \t") {
		return "", "", "", false
	}
	if r, cut := strings.CutSuffix(rest, " (null)"); cut {
		return dev, r, "", true
	}
	// The mounted path is the mount point followed by the relative path;
	// prefer the split where it ends with the relative path (paths may hold
	// blanks), else the last blank.
	for i := 0; i < len(rest); i++ {
		if rest[i] == ' ' && strings.HasSuffix(rest[i+1:], rest[:i]) && rest[:i] != "" {
			return dev, rest[:i], rest[i+1:], true
		}
	}
	i := strings.LastIndexByte(rest, ' ')
	if i < 0 {
		return "", "", "", false
	}
	return dev, rest[:i], rest[i+1:], true
}

func isBootNum(s string) bool {
	if len(s) != 4 {
		return false
	}
	for i := 0; i < 4; i++ {
		c := s[i]
		if !isASCIIDigit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isASCIIDigit(c byte) bool  { return c >= '0' && c <= '9' }
