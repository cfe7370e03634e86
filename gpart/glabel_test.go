// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseGlabelStatus(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Label
	}{
		{
			name: "gptid naming with trailing space (A)",
			in:   testOutput(t, "glabel-status-samples.txtar", "glabel status (A)"),
			want: []Label{
				{"gptid/45ae1680-8a9b-11ec-b2ce-408d5ceadf9f", "N/A", "ada0p2"},
				{"gptid/890e9a43-8ac7-11ec-8bb9-408d5ceadf9f", "N/A", "ada1p1"},
				{"gptid/45a1f4c3-8a9b-11ec-b2ce-408d5ceadf9f", "N/A", "ada0p1"},
				{"gptid/785eca5d-8bc9-11ec-8e07-408d5ceadf9f", "N/A", "ada2p1"},
			},
		},
		{
			name: "custom GPT labels (B)",
			in:   testOutput(t, "glabel-status-samples.txtar", "glabel status ada0p1 ada1p1 (B)"),
			want: []Label{{"gpt/HDD22", "N/A", "ada0p1"}, {"gpt/HDD23", "N/A", "ada1p1"}},
		},
		{
			name: "grep output without header, leading spaces (C)",
			in:   testOutput(t, "glabel-status-samples.txtar", "glabel status | grep ada0p1 (C)"),
			want: []Label{{"gpt/efiboot0", "N/A", "ada0p1"}, {"msdosfs/EFISYS", "N/A", "ada0p1"}},
		},
		{
			name: "crossed labels",
			in:   testOutput(t, "gpart-list-mirror-crossed-labels.txtar", "glabel status"),
			want: []Label{
				{"gpt/efiboot0", "N/A", "ada0p1"},
				{"gpt/gptboot0", "N/A", "ada0p2"},
				{"gpt/zfs1", "N/A", "ada0p4"},
				{"gpt/efiboot1", "N/A", "ada1p1"},
				{"gpt/gptboot1", "N/A", "ada1p2"},
				{"gpt/zfs0", "N/A", "ada1p4"},
				{"gptid/0f21ddb6-d3ac-11e9-87f2-0cc47a3b5d10", "N/A", "ada1p2"},
				{"msdosfs/EFISYS", "N/A", "ada0p1"},
			},
		},
		{
			name: "tabs, blank lines and a label with a blank",
			in:   "\tgpt/boot disk\tN/A\tada0p1\t\n\n  diskid/DISK-S3Z9NB0K123456  N/A  nda0\n",
			want: []Label{{"gpt/boot disk", "N/A", "ada0p1"}, {"diskid/DISK-S3Z9NB0K123456", "N/A", "nda0"}},
		},
		{
			name: "continuation line holding a second component",
			in:   "      Name  Status  Components\nmirror/gm0  COMPLETE  ada0\n                      ada1\n",
			want: []Label{{"mirror/gm0", "COMPLETE", "ada0"}, {"mirror/gm0", "COMPLETE", "ada1"}},
		},
		{name: "empty output", in: "", want: nil},
		{name: "header only", in: "Name  Status  Components\n", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGlabelStatus(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseGlabelStatusErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
	}{
		{"two columns", "gpt/zfs0 ada0p3\n", 1},
		{"component before any label", "\n  ada0p3\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseGlabelStatus(tt.in)
			wantParseError(t, err, "glabel status", tt.line)
		})
	}
}

func FuzzParseGlabelStatus(f *testing.F) {
	seedOutputs(f, "glabel status")
	f.Fuzz(func(t *testing.T, in string) {
		labels, err := ParseGlabelStatus(in)
		if err != nil {
			return
		}
		for _, lb := range labels {
			if lb.Name == "" || lb.Component == "" || strings.ContainsAny(lb.Component, " \t\n") {
				t.Fatalf("bad label %+v", lb)
			}
		}
	})
}
