// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// listItemRE matches the first line of a provider or consumer block:
// "1. Name: ada0p1" (or "1. [no provider]" for a consumer without one).
var listItemRE = regexp.MustCompile(`^(\d+)\.\s+(?:Name:\s*(.*?)|(\[no provider\]))$`)

// listField is one "key: value" line of gpart list, with its line number.
type listField struct {
	value string
	line  int
	text  string
}

// listBlock collects the "key: value" lines of a geom, provider or consumer.
type listBlock struct {
	name   string
	line   int
	text   string
	fields map[string]listField
	attrib []string
}

func newListBlock(name string, line int, text string) *listBlock {
	return &listBlock{name: name, line: line, text: text, fields: map[string]listField{}}
}

// listGeom is a geom being read: its own block, providers and consumers.
type listGeom struct {
	block     *listBlock
	providers []*listBlock
	consumers []*listBlock
}

// ParseList reads the output of `gpart list` (every geom, or the geoms named
// on the command line) into partition tables. It reads the format, not a
// layout: any scheme (GPT, MBR, BSD nested in MBR), any provider naming
// (ada, nda, nvd, da, vtbd, diskid/...), "(null)" labels, output of older
// gpart without efimedia lines, and indentation with spaces or tabs. Lines it
// cannot place return a *host.ParseError.
func ParseList(out string) ([]Geom, error) {
	const command = "gpart list"
	perr := func(line int, text, reason string) error {
		return &host.ParseError{Command: command, Line: line, Text: text, Reason: reason}
	}

	var geoms []*listGeom
	var cur *listGeom
	const (
		inGeom = iota
		inProviders
		inConsumers
	)
	section := inGeom
	var item *listBlock

	for i, raw := range strings.Split(out, "\n") {
		lineNo := i + 1
		line := strings.TrimSpace(raw)
		if line == "" {
			continue
		}
		if name, ok := strings.CutPrefix(line, "Geom name:"); ok {
			name = strings.TrimSpace(name)
			if name == "" {
				return nil, perr(lineNo, raw, "geom without a name")
			}
			cur = &listGeom{block: newListBlock(name, lineNo, raw)}
			geoms = append(geoms, cur)
			section, item = inGeom, cur.block
			continue
		}
		if cur == nil {
			return nil, perr(lineNo, raw, `expected "Geom name:" before anything else`)
		}
		switch line {
		case "Providers:":
			section, item = inProviders, nil
			continue
		case "Consumers:":
			section, item = inConsumers, nil
			continue
		}
		if m := listItemRE.FindStringSubmatch(line); m != nil {
			if section == inGeom {
				return nil, perr(lineNo, raw, `numbered entry outside "Providers:" or "Consumers:"`)
			}
			name := strings.TrimSpace(m[2])
			if m[3] == "" && name == "" {
				return nil, perr(lineNo, raw, "entry without a name")
			}
			if m[3] != "" && section == inProviders {
				return nil, perr(lineNo, raw, "provider without a name")
			}
			item = newListBlock(name, lineNo, raw)
			if section == inProviders {
				cur.providers = append(cur.providers, item)
			} else {
				cur.consumers = append(cur.consumers, item)
			}
			continue
		}
		key, value, ok := splitListField(line)
		if !ok {
			return nil, perr(lineNo, raw, `expected "key: value"`)
		}
		if item == nil {
			return nil, perr(lineNo, raw, "field outside a numbered entry")
		}
		if key == "attrib" {
			item.attrib = append(item.attrib, value)
			continue
		}
		if prev, dup := item.fields[key]; dup && prev.value != value {
			return nil, perr(lineNo, raw, "field "+key+" given twice")
		}
		item.fields[key] = listField{value: value, line: lineNo, text: raw}
	}
	if len(geoms) == 0 {
		return nil, &host.ParseError{Command: command, Reason: "no geom in output"}
	}

	out2 := make([]Geom, 0, len(geoms))
	for _, lg := range geoms {
		g, err := lg.geom(command)
		if err != nil {
			return nil, err
		}
		out2 = append(out2, g)
	}
	return out2, nil
}

// splitListField splits "key: value" (or "key:" with an empty value).
func splitListField(line string) (key, value string, ok bool) {
	if k, ok := strings.CutSuffix(line, ":"); ok && !strings.Contains(k, ": ") {
		k = strings.TrimSpace(k)
		return k, "", k != "" && !strings.ContainsAny(k, " \t")
	}
	k, v, found := strings.Cut(line, ": ")
	if !found {
		return "", "", false
	}
	k = strings.TrimSpace(k)
	if k == "" || strings.ContainsAny(k, " \t") {
		return "", "", false
	}
	return k, strings.TrimSpace(v), true
}

// geom turns a collected geom into a Geom.
func (lg *listGeom) geom(command string) (Geom, error) {
	b := lg.block
	g := Geom{
		Name:   b.name,
		Scheme: b.str("scheme"),
		State:  b.str("state"),
	}
	var err error
	if g.First, err = b.uint(command, "first"); err != nil {
		return Geom{}, err
	}
	if g.Last, err = b.uint(command, "last"); err != nil {
		return Geom{}, err
	}
	entries, err := b.uint(command, "entries")
	if err != nil {
		return Geom{}, err
	}
	g.Entries = int(entries)
	if g.Scheme == "" {
		return Geom{}, &host.ParseError{Command: command, Line: b.line, Text: b.text, Reason: "geom " + g.Name + " has no scheme"}
	}
	seen := map[int]string{}
	for _, pb := range lg.providers {
		p, err := pb.partition(command)
		if err != nil {
			return Geom{}, err
		}
		if other, dup := seen[p.Index]; dup {
			return Geom{}, &host.ParseError{Command: command, Line: pb.line, Text: pb.text,
				Reason: "index " + strconv.Itoa(p.Index) + " used by both " + other + " and " + p.Name}
		}
		seen[p.Index] = p.Name
		g.Partitions = append(g.Partitions, p)
	}
	switch len(lg.consumers) {
	case 0:
		// A PART geom is named after the provider it lives on.
		g.Consumer = Consumer{Name: g.Name}
	case 1:
		cb := lg.consumers[0]
		c := Consumer{Name: cb.name}
		if c.Name == "" {
			c.Name = g.Name
		}
		if c.MediaSize, err = cb.size(command, "Mediasize"); err != nil {
			return Geom{}, err
		}
		if c.SectorSize, err = cb.uint(command, "Sectorsize"); err != nil {
			return Geom{}, err
		}
		g.Consumer = c
	default:
		cb := lg.consumers[1]
		return Geom{}, &host.ParseError{Command: command, Line: cb.line, Text: cb.text,
			Reason: "a partition table has one consumer, geom " + g.Name + " lists more"}
	}
	return g, nil
}

// partition turns a provider block into a Partition.
func (b *listBlock) partition(command string) (Partition, error) {
	p := Partition{
		Name:       b.name,
		Type:       b.str("type"),
		Label:      labelValue(b.str("label")),
		RawUUID:    b.str("rawuuid"),
		RawType:    b.str("rawtype"),
		EFIMedia:   b.str("efimedia"),
		Attributes: b.attrib,
	}
	if p.Type == "" {
		return Partition{}, &host.ParseError{Command: command, Line: b.line, Text: b.text, Reason: "partition " + p.Name + " has no type"}
	}
	f, ok := b.fields["index"]
	if !ok {
		return Partition{}, &host.ParseError{Command: command, Line: b.line, Text: b.text, Reason: "partition " + p.Name + " has no index"}
	}
	idx, err := strconv.Atoi(f.value)
	if err != nil || idx < 1 {
		return Partition{}, &host.ParseError{Command: command, Line: f.line, Text: f.text, Reason: "index is not a positive number"}
	}
	p.Index = idx
	for _, u := range []struct {
		key string
		dst *uint64
	}{{"start", &p.Start}, {"end", &p.End}, {"offset", &p.Offset}, {"length", &p.Length}, {"Sectorsize", &p.SectorSize}} {
		if *u.dst, err = b.uint(command, u.key); err != nil {
			return Partition{}, err
		}
	}
	if p.MediaSize, err = b.size(command, "Mediasize"); err != nil {
		return Partition{}, err
	}
	return p, nil
}

// labelValue maps gpart's rendering of an empty label to "".
func labelValue(s string) string {
	if s == "(null)" {
		return ""
	}
	return s
}

func (b *listBlock) str(key string) string { return b.fields[key].value }

// uint reads an optional unsigned number; a missing field is 0.
func (b *listBlock) uint(command, key string) (uint64, error) {
	f, ok := b.fields[key]
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseUint(f.value, 10, 64)
	if err != nil {
		return 0, &host.ParseError{Command: command, Line: f.line, Text: f.text, Reason: key + " is not a number"}
	}
	return n, nil
}

// size reads an optional "Mediasize: 524288 (512K)" field.
func (b *listBlock) size(command, key string) (uint64, error) {
	f, ok := b.fields[key]
	if !ok {
		return 0, nil
	}
	num, human, _ := strings.Cut(f.value, " ")
	human = strings.TrimSpace(human)
	if human != "" && !(strings.HasPrefix(human, "(") && strings.HasSuffix(human, ")")) {
		return 0, &host.ParseError{Command: command, Line: f.line, Text: f.text, Reason: key + ` is not "<bytes> (<size>)"`}
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, &host.ParseError{Command: command, Line: f.line, Text: f.text, Reason: key + " is not a number"}
	}
	return n, nil
}
