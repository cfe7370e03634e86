// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"slices"
	"strconv"
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// xmlMesh is the root of kern.geom.confxml.
type xmlMesh struct {
	XMLName xml.Name   `xml:"mesh"`
	Classes []xmlClass `xml:"class"`
}

type xmlClass struct {
	ID    string    `xml:"id,attr"`
	Name  string    `xml:"name"`
	Geoms []xmlGeom `xml:"geom"`
}

type xmlGeom struct {
	ID        string        `xml:"id,attr"`
	Name      string        `xml:"name"`
	Config    xmlConfig     `xml:"config"`
	Consumers []xmlConsumer `xml:"consumer"`
	Providers []xmlProvider `xml:"provider"`
}

type xmlConsumer struct {
	ID       string `xml:"id,attr"`
	Provider xmlRef `xml:"provider"`
}

type xmlRef struct {
	Ref string `xml:"ref,attr"`
}

type xmlProvider struct {
	ID         string    `xml:"id,attr"`
	Name       string    `xml:"name"`
	MediaSize  string    `xml:"mediasize"`
	SectorSize string    `xml:"sectorsize"`
	Config     xmlConfig `xml:"config"`
}

// xmlConfig holds a <config> element's children as name -> text. Each class
// puts its own elements there (PART: scheme, index, type, label, ...; DISK:
// ident, descr, ...).
type xmlConfig struct {
	Items []xmlItem `xml:",any"`
}

type xmlItem struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

func (c xmlConfig) get(name string) (string, bool) {
	for _, it := range c.Items {
		if it.XMLName.Local == name {
			return strings.TrimSpace(it.Value), true
		}
	}
	return "", false
}

func (c xmlConfig) str(name string) string {
	v, _ := c.get(name)
	return v
}

// confxmlCommand names the probe in errors.
const confxmlCommand = "sysctl -b kern.geom.confxml"

// GEOM classes that carry no transformation zupgrade follows: device nodes,
// consumers only (ZFS, swap), or classes read on their own.
var confxmlSkippedClasses = map[string]bool{
	"PART": true, "LABEL": true, "DISK": true, "DEV": true,
	"ZFS::VDEV": true, "ZFS::ZVOL": true, "SWAP": true, "VFS": true,
}

// ParseConfXML reads the GEOM tree that `sysctl -b kern.geom.confxml`
// prints (an XML document, possibly followed by the NUL that ends the
// sysctl string) into a Layout: partition tables from the PART class, labels
// from the LABEL class, disks from the DISK class, and every other class that
// has providers (ELI, NOP, MIRROR, ...) as layers with the providers they
// consume. Consumers are followed by their provider references, not by
// names. Malformed XML or values return a *host.ParseError.
func ParseConfXML(data []byte) (*Layout, error) {
	data = bytes.TrimRight(data, "\x00\r\n\t ")
	var mesh xmlMesh
	if err := xml.Unmarshal(data, &mesh); err != nil {
		return nil, &host.ParseError{Command: confxmlCommand, Line: xmlErrorLine(err), Reason: "not a GEOM mesh: " + err.Error()}
	}

	// Providers by id, across every class, to follow consumers.
	byID := map[string]xmlProvider{}
	for _, c := range mesh.Classes {
		for _, g := range c.Geoms {
			for _, p := range g.Providers {
				if p.ID != "" {
					byID[p.ID] = p
				}
			}
		}
	}
	consumed := func(g xmlGeom) ([]xmlProvider, error) {
		var out []xmlProvider
		for _, c := range g.Consumers {
			if c.Provider.Ref == "" {
				continue
			}
			p, ok := byID[c.Provider.Ref]
			if !ok {
				return nil, &host.ParseError{Command: confxmlCommand,
					Reason: "geom " + g.Name + " consumes provider " + c.Provider.Ref + ", which the mesh does not hold"}
			}
			out = append(out, p)
		}
		return out, nil
	}

	l := &Layout{}
	for _, c := range mesh.Classes {
		for _, g := range c.Geoms {
			under, err := consumed(g)
			if err != nil {
				return nil, err
			}
			switch c.Name {
			case "PART":
				pg, err := confxmlPartGeom(g, under)
				if err != nil {
					return nil, err
				}
				l.Geoms = append(l.Geoms, pg)
			case "LABEL":
				// A label geom is named after the provider it labels;
				// its consumer says the same when present.
				component := g.Name
				if len(under) == 1 {
					component = under[0].Name
				}
				for _, p := range g.Providers {
					l.Labels = append(l.Labels, Label{Name: p.Name, Component: component})
				}
			case "DISK":
				for _, p := range g.Providers {
					d := Disk{
						Name:  p.Name,
						Ident: p.Config.str("ident"),
						Descr: p.Config.str("descr"),
						LunID: p.Config.str("lunid"),
					}
					if d.MediaSize, err = confxmlUint(p.MediaSize, "mediasize of "+p.Name); err != nil {
						return nil, err
					}
					if d.SectorSize, err = confxmlUint(p.SectorSize, "sectorsize of "+p.Name); err != nil {
						return nil, err
					}
					l.Disks = append(l.Disks, d)
				}
			default:
				if confxmlSkippedClasses[c.Name] {
					continue
				}
				var names []string
				for _, u := range under {
					names = append(names, u.Name)
				}
				for _, p := range g.Providers {
					l.Layers = append(l.Layers, Layer{Class: c.Name, Name: p.Name, Underlying: names})
				}
			}
		}
	}
	return l, nil
}

// confxmlPartGeom turns a PART geom into a Geom.
func confxmlPartGeom(g xmlGeom, under []xmlProvider) (Geom, error) {
	out := Geom{
		Name:   g.Name,
		Scheme: g.Config.str("scheme"),
		State:  g.Config.str("state"),
	}
	if out.Name == "" {
		return Geom{}, &host.ParseError{Command: confxmlCommand, Reason: "PART geom " + g.ID + " has no name"}
	}
	if out.Scheme == "" {
		return Geom{}, &host.ParseError{Command: confxmlCommand, Reason: "PART geom " + g.Name + " has no scheme"}
	}
	var err error
	if out.First, err = confxmlUint(g.Config.str("first"), "first of "+g.Name); err != nil {
		return Geom{}, err
	}
	if out.Last, err = confxmlUint(g.Config.str("last"), "last of "+g.Name); err != nil {
		return Geom{}, err
	}
	entries, err := confxmlUint(g.Config.str("entries"), "entries of "+g.Name)
	if err != nil {
		return Geom{}, err
	}
	out.Entries = int(entries)
	switch len(under) {
	case 0:
		// A PART geom is named after the provider it lives on.
		out.Consumer = Consumer{Name: g.Name}
	case 1:
		out.Consumer = Consumer{Name: under[0].Name}
		if out.Consumer.MediaSize, err = confxmlUint(under[0].MediaSize, "mediasize of "+under[0].Name); err != nil {
			return Geom{}, err
		}
		if out.Consumer.SectorSize, err = confxmlUint(under[0].SectorSize, "sectorsize of "+under[0].Name); err != nil {
			return Geom{}, err
		}
	default:
		return Geom{}, &host.ParseError{Command: confxmlCommand, Reason: "PART geom " + g.Name + " has more than one consumer"}
	}

	seen := map[int]string{}
	for _, p := range g.Providers {
		part, err := confxmlPartition(p)
		if err != nil {
			return Geom{}, err
		}
		if other, dup := seen[part.Index]; dup {
			return Geom{}, &host.ParseError{Command: confxmlCommand,
				Reason: "index " + strconv.Itoa(part.Index) + " used by both " + other + " and " + part.Name}
		}
		seen[part.Index] = part.Name
		out.Partitions = append(out.Partitions, part)
	}
	// The kernel lists the newest provider first; present them by index,
	// as gpart list does.
	slices.SortStableFunc(out.Partitions, func(a, b Partition) int { return cmp.Compare(a.Index, b.Index) })
	return out, nil
}

// confxmlPartition turns a PART provider into a Partition.
func confxmlPartition(p xmlProvider) (Partition, error) {
	c := p.Config
	part := Partition{
		Name:     p.Name,
		Type:     c.str("type"),
		Label:    labelValue(c.str("label")),
		RawUUID:  c.str("rawuuid"),
		RawType:  c.str("rawtype"),
		EFIMedia: c.str("efimedia"),
	}
	for _, it := range c.Items {
		if it.XMLName.Local == "attrib" {
			part.Attributes = append(part.Attributes, strings.TrimSpace(it.Value))
		}
	}
	if part.Name == "" {
		return Partition{}, &host.ParseError{Command: confxmlCommand, Reason: "PART provider " + p.ID + " has no name"}
	}
	if part.Type == "" {
		return Partition{}, &host.ParseError{Command: confxmlCommand, Reason: "partition " + part.Name + " has no type"}
	}
	idx, err := strconv.Atoi(c.str("index"))
	if err != nil || idx < 1 {
		return Partition{}, &host.ParseError{Command: confxmlCommand, Reason: "partition " + part.Name + " has no positive index"}
	}
	part.Index = idx
	for _, f := range []struct {
		val  string
		what string
		dst  *uint64
	}{
		{c.str("start"), "start", &part.Start},
		{c.str("end"), "end", &part.End},
		{c.str("offset"), "offset", &part.Offset},
		{c.str("length"), "length", &part.Length},
		{p.MediaSize, "mediasize", &part.MediaSize},
		{p.SectorSize, "sectorsize", &part.SectorSize},
	} {
		if *f.dst, err = confxmlUint(f.val, f.what+" of "+part.Name); err != nil {
			return Partition{}, err
		}
	}
	return part, nil
}

// confxmlUint reads an optional unsigned number ("" is 0).
func confxmlUint(s, what string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, &host.ParseError{Command: confxmlCommand, Reason: what + " is not a number: " + strconv.Quote(s)}
	}
	return n, nil
}

// xmlErrorLine returns the line of an XML syntax error, or 0.
func xmlErrorLine(err error) int {
	if se, ok := err.(*xml.SyntaxError); ok {
		return se.Line
	}
	return 0
}
