// SPDX-License-Identifier: BSD-2-Clause

package zpool

import (
	"errors"
	"slices"
	"testing"

	"github.com/zupgrade/zupgrade/host"
)

func TestParseCompatibilityFile(t *testing.T) {
	data := []byte("# features supported by OpenZFS 2.1 on FreeBSD\nasync_destroy\nbookmarks, embedded_data\n\nlz4_compress # common\n")
	got, err := ParseCompatibilityFile("/usr/share/zfs/compatibility.d/x", data)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"async_destroy", "bookmarks", "embedded_data", "lz4_compress"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err = ParseCompatibilityFile("f", []byte("async_destroy\nNot-A-Feature!\n"))
	var pe *host.ParseError
	if !errors.As(err, &pe) || pe.Line != 2 {
		t.Errorf("err = %v, want a parse error on line 2", err)
	}
}

func TestAllowedByCompatibility(t *testing.T) {
	sets := map[string][]string{"a": {"x", "y", "z"}, "b": {"y", "z"}}
	want := []string{"x", "y", "w"}
	tests := []struct {
		names []string
		out   []string
	}{
		{[]string{"a"}, []string{"x", "y"}},
		{[]string{"a", "b"}, []string{"y"}},
		{[]string{"legacy"}, nil},
		{nil, want},
	}
	for _, tt := range tests {
		if got := AllowedByCompatibility(want, tt.names, sets); !slices.Equal(got, tt.out) {
			t.Errorf("%q: got %q, want %q", tt.names, got, tt.out)
		}
	}
}
