// SPDX-License-Identifier: BSD-2-Clause

package zpool

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// PropertiesCommand is the command line whose output ParseProperties reads.
const PropertiesCommand = "zpool get -H -p all"

// FeatureState is the value of a feature@NAME pool property.
type FeatureState string

// States of a pool feature (zpool-features(7)): a disabled feature is off; an
// enabled one may be used from now on but nothing on disk needs it yet; an
// active one is in use on disk, and software that cannot read it cannot
// read the pool.
const (
	FeatureDisabled FeatureState = "disabled"
	FeatureEnabled  FeatureState = "enabled"
	FeatureActive   FeatureState = "active"
)

// Property is one pool property's value and source as zpool get prints them.
type Property struct {
	Value  string
	Source string
}

// Properties holds every property `zpool get` printed for one pool.
type Properties struct {
	Pool string
	// Values maps a property name ("bootfs", "feature@lz4_compress", ...)
	// to its value and source.
	Values map[string]Property
}

// ParseProperties parses the output of `zpool get -H -p all` (every pool):
// one tab-separated line of pool, property, value and source per property.
// It also reads the column form zpool get prints without -H (a NAME
// PROPERTY VALUE SOURCE header line first). Pools come back in the order
// they first appear; empty output yields none.
func ParseProperties(out string) ([]Properties, error) {
	lines := splitLines(out)
	var cols []int // column starts of the form without -H
	var pools []Properties
	index := map[string]int{}
	for i, line := range lines {
		n := i + 1
		if strings.TrimSpace(line) == "" {
			continue
		}
		fail := func(reason string) error {
			return &host.ParseError{Command: PropertiesCommand, Line: n, Text: line, Reason: reason}
		}
		if cols == nil && len(pools) == 0 && strings.Join(strings.Fields(line), " ") == "NAME PROPERTY VALUE SOURCE" {
			cols = []int{0, strings.Index(line, "PROPERTY"), strings.Index(line, "VALUE"), strings.Index(line, "SOURCE")}
			continue
		}
		var f []string
		if cols != nil {
			var ok bool
			if f, ok = splitColumns(line, cols); !ok {
				return nil, fail("line does not fit the NAME PROPERTY VALUE SOURCE columns of the header")
			}
		} else {
			f = strings.Split(line, "\t")
			if len(f) != 4 {
				return nil, fail("expected 4 tab-separated fields: pool, property, value, source")
			}
		}
		pool, prop, value, source := f[0], f[1], f[2], f[3]
		if pool == "" || prop == "" || strings.ContainsAny(prop, " \t") {
			return nil, fail("empty or malformed pool or property name")
		}
		if feature, ok := strings.CutPrefix(prop, "feature@"); ok {
			if feature == "" {
				return nil, fail("feature property without a name")
			}
			switch FeatureState(value) {
			case FeatureDisabled, FeatureEnabled, FeatureActive:
			default:
				return nil, fail("feature state is not disabled, enabled or active")
			}
		}
		k, seen := index[pool]
		if !seen {
			k = len(pools)
			index[pool] = k
			pools = append(pools, Properties{Pool: pool, Values: map[string]Property{}})
		}
		if _, dup := pools[k].Values[prop]; dup {
			return nil, fail("property printed twice for the same pool")
		}
		pools[k].Values[prop] = Property{Value: value, Source: source}
	}
	return pools, nil
}

// splitColumns cuts a line of the column form at the header's column starts.
// Columns are separated by at least two spaces, so the two bytes before each
// column start must be blank.
func splitColumns(line string, cols []int) ([]string, bool) {
	if len(line) <= cols[3] {
		return nil, false
	}
	var f []string
	for i, start := range cols {
		if i > 0 && line[start-1] != ' ' {
			return nil, false
		}
		end := len(line)
		if i+1 < len(cols) {
			end = cols[i+1]
		}
		f = append(f, strings.TrimSpace(line[start:end]))
	}
	return f, true
}

// Health returns the health property: ONLINE, DEGRADED, FAULTED, ...
func (p *Properties) Health() string { return p.Values["health"].Value }

// Bootfs returns the bootfs property, the dataset the loader boots by
// default, and false when it is unset ("-").
func (p *Properties) Bootfs() (string, bool) {
	v := p.Values["bootfs"].Value
	if v == "" || v == "-" {
		return "", false
	}
	return v, true
}

// Compatibility returns the compatibility property as a list: nil for "off"
// (or when the property does not exist: OpenZFS before 2.1), ["legacy"] for
// legacy (zpool upgrade enables no feature), else the names of the feature
// set files, whose intersection limits what zpool upgrade may enable.
func (p *Properties) Compatibility() []string {
	v := p.Values["compatibility"].Value
	if v == "" || v == "off" || v == "-" {
		return nil
	}
	return strings.Split(v, ",")
}

// Size returns the pool's size in bytes.
func (p *Properties) Size() (uint64, error) { return p.bytes("size") }

// Free returns the pool's free space in bytes.
func (p *Properties) Free() (uint64, error) { return p.bytes("free") }

func (p *Properties) bytes(name string) (uint64, error) {
	prop, ok := p.Values[name]
	if !ok {
		return 0, fmt.Errorf("pool %s: zpool get printed no %s property", p.Pool, name)
	}
	n, err := strconv.ParseUint(prop.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("pool %s: %s is %q, not a byte count (zpool get needs -p for exact numbers)", p.Pool, name, prop.Value)
	}
	return n, nil
}

// Version returns the pool's legacy on-disk version (e.g. 28), or 0 for a
// pool that uses feature flags (version "-").
func (p *Properties) Version() (int, error) {
	prop, ok := p.Values["version"]
	if !ok {
		return 0, fmt.Errorf("pool %s: zpool get printed no version property", p.Pool)
	}
	if prop.Value == "-" {
		return 0, nil
	}
	v, err := strconv.Atoi(prop.Value)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("pool %s: version is %q, neither \"-\" nor a number", p.Pool, prop.Value)
	}
	return v, nil
}

// Features returns every feature@NAME property by NAME.
func (p *Properties) Features() map[string]FeatureState {
	out := map[string]FeatureState{}
	for name, prop := range p.Values {
		if f, ok := strings.CutPrefix(name, "feature@"); ok {
			out[f] = FeatureState(prop.Value)
		}
	}
	return out
}

// Feature returns the state of one feature, "" when zpool get printed no
// such feature (the system does not know it).
func (p *Properties) Feature(name string) FeatureState {
	return FeatureState(p.Values["feature@"+name].Value)
}
