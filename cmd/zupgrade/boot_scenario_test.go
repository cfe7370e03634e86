package main

import (
	"slices"
	"testing"
)

// TestLocalPATH: zupgrade adds to its PATH the /usr/local directory of
// every /usr/sbin and /usr/bin entry (hier(7)), so that the run the boot
// hook resumes with rc's PATH finds pkg-static and portmaster.
func TestLocalPATH(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/sbin:/bin:/usr/sbin:/usr/bin", "/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin"},
		{"/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin:/root/bin", "/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin:/root/bin"},
		{"/usr/bin:/bin", "/usr/bin:/bin:/usr/local/bin"},
		{"/usr/local/bin:/usr/sbin/", "/usr/local/bin:/usr/sbin/:/usr/local/sbin"},
		{"/m/bin/sbin:/m/bin/usr/sbin:/m/bin/usr/bin", "/m/bin/sbin:/m/bin/usr/sbin:/m/bin/usr/bin:/m/bin/usr/local/sbin:/m/bin/usr/local/bin"},
		{"/opt/tools", "/opt/tools"},
	} {
		got := withLocalPATH([]string{"HOME=/", "PATH=" + tt.in})
		if !slices.Equal(got, []string{"HOME=/", "PATH=" + tt.want}) {
			t.Errorf("PATH=%s: %q, want PATH=%s", tt.in, got, tt.want)
		}
	}
	if got := withLocalPATH([]string{"HOME=/"}); !slices.Equal(got, []string{"HOME=/"}) {
		t.Errorf("without PATH: %q", got)
	}
}
