// SPDX-License-Identifier: BSD-2-Clause

package freebsdupdate

import (
	"strings"
	"testing"
)

func TestCheckPublished(t *testing.T) {
	for _, c := range []struct {
		name string
		want string // "" for published
	}{
		{"14.2-RELEASE", ""},
		{"13.5-RELEASE", ""},
		{"15.0-RELEASE", ""},
		{"15.0-BETA2", ""},
		{"14.4-RELEASE", ""}, // an open branch: the update servers decide
		{"8.4-RELEASE", ""},
		{"99.0-RELEASE", "it knows releases up to 15.x"},
		{"16.0-RELEASE", "use a newer zupgrade"},
		{"13.6-RELEASE", "the 13 branch ended with 13.5-RELEASE"},
		{"12.5-RELEASE", "the 12 branch ended with 12.4-RELEASE"},
		{"9.4-RELEASE", "ended with 9.3-RELEASE"},
	} {
		err := CheckPublished(MustParseRelease(c.name))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want published", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}
