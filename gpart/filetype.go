// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// Content is what file(1) found on a device.
type Content int

const (
	// ContentOther is anything that is neither FAT nor blank: another file
	// system, a partition table, a boot image.
	ContentOther Content = iota
	// ContentFAT is a FAT file system, as an ESP must hold.
	ContentFAT
	// ContentNoFileSystem is a device file(1) recognises nothing on
	// ("data"), such as a zeroed ESP the installer never formatted.
	ContentNoFileSystem
	// ContentUnreadable is a device file(1) could not open.
	ContentUnreadable
)

func (c Content) String() string {
	switch c {
	case ContentFAT:
		return "FAT file system"
	case ContentNoFileSystem:
		return "no file system"
	case ContentUnreadable:
		return "unreadable"
	default:
		return "other content"
	}
}

// FileResult is file(1)'s verdict on one device.
type FileResult struct {
	// Path is the device as given, e.g. "/dev/ada0p1".
	Path string
	// Description is file(1)'s text.
	Description string
	// Content classifies Description.
	Content Content
	// FATBits is 12, 16 or 32 when file(1) named the FAT type, else 0.
	FATBits int
}

// FileSArgv returns the command that inspects the given devices in one
// process: file -s DEV...
func FileSArgv(devices ...string) []string {
	return append([]string{"file", "-s"}, devices...)
}

var fatBitsRE = regexp.MustCompile(`\bFAT \((12|16|32) bit\)`)

// fatOEMIDs are OEM names that FAT formatters write into the boot sector:
// newfs_msdos ("BSD  4.4"), mkfs.fat, and Windows.
var fatOEMIDs = []string{`OEM-ID "BSD  4.4"`, `OEM-ID "BSD4.4  "`, `OEM-ID "mkfs.fat"`, `OEM-ID "MSDOS5.0"`, `OEM-ID "MSWIN4.1"`}

// ParseFileS reads the output of `file -s DEV...`: one "path: description"
// line per device (file pads after the colon so descriptions line up). A
// device holds FAT when file names the FAT type ("FAT (32 bit)") or, on a
// DOS/MBR or x86 boot sector, a FAT formatter's OEM-ID; "data" means no file
// system was recognised. Lines without "path: " return a *host.ParseError.
func ParseFileS(out string) ([]FileResult, error) {
	const command = "file -s"
	var results []FileResult
	for i, raw := range strings.Split(out, "\n") {
		line := strings.TrimRight(raw, " \t\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		path, desc, ok := strings.Cut(line, ": ")
		if !ok || path == "" || strings.ContainsAny(path, "\t") {
			return nil, &host.ParseError{Command: command, Line: i + 1, Text: raw, Reason: `expected "<device>: <description>"`}
		}
		r := FileResult{Path: path, Description: strings.TrimSpace(desc)}
		r.Content, r.FATBits = classifyFileDescription(r.Description)
		results = append(results, r)
	}
	return results, nil
}

// classifyFileDescription sorts one file(1) description.
func classifyFileDescription(d string) (Content, int) {
	switch {
	case d == "data" || d == "empty":
		return ContentNoFileSystem, 0
	case strings.HasPrefix(d, "cannot open") || strings.HasPrefix(d, "writable, no read permission") ||
		strings.HasPrefix(d, "no read permission"):
		return ContentUnreadable, 0
	}
	if !strings.HasPrefix(d, "DOS/MBR boot sector") && !strings.HasPrefix(d, "x86 boot sector") {
		return ContentOther, 0
	}
	if m := fatBitsRE.FindStringSubmatch(d); m != nil {
		bits, _ := strconv.Atoi(m[1])
		return ContentFAT, bits
	}
	for _, oem := range fatOEMIDs {
		if strings.Contains(d, oem) {
			return ContentFAT, 0
		}
	}
	return ContentOther, 0
}
