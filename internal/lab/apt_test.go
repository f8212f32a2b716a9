// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const dependsOut = `linux-headers-amd64
  Depends: linux-headers-6.1.0-56-amd64
`

func TestParseMetaDepends(t *testing.T) {
	tests := []struct {
		name, out, want string
	}{
		{"bookworm-security", dependsOut, "6.1.0-56-amd64"},
		{"or-dependency", "linux-headers-amd64\n |Depends: linux-headers-6.1.0-47-amd64\n", "6.1.0-47-amd64"},
		{"other lines first", "x\n  Recommends: foo\n  Depends: linux-headers-6.1.0-9-amd64\n", "6.1.0-9-amd64"},
		{"no dependency", "linux-headers-amd64\n", ""},
		// The flavor is the generation's to check (Generation.owns).
		{"rt flavour", "  Depends: linux-headers-6.1.0-56-rt-amd64\n", "6.1.0-56-rt-amd64"},
		{"other flavour", "  Depends: linux-headers-6.1.0-56-cloud-amd64\n", ""},
		{"injection", "  Depends: linux-headers-6.1.0-56-amd64;rm -rf /\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMetaDepends(tt.out, "linux-headers-")
			if tt.want == "" {
				require.ErrorContains(t, err, "no dependency on linux-headers-<6.1.0-NN-amd64> found")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseCandidate(t *testing.T) {
	out := "linux-image-6.1.0-56-amd64:\n  Installed: (none)\n  Candidate: 6.1.192-2\n  Version table:\n"
	v, err := parseCandidate(out)
	require.NoError(t, err)
	require.Equal(t, "6.1.192-2", v)
	for _, bad := range []string{"", "  Candidate: (none)\n", "  Candidate: 1 2\n", "  Candidate: x=y\n"} {
		_, err := parseCandidate(bad)
		require.Regexp(t, `^no (installable candidate|Candidate line)`, err, bad)
	}
}

func TestParseInstalled(t *testing.T) {
	require.True(t, parseInstalled("install ok installed 6.1.192-2", "6.1.192-2"))
	require.False(t, parseInstalled("install ok installed 6.1.192-1", "6.1.192-2"))
	require.False(t, parseInstalled("deinstall ok config-files 6.1.192-2", "6.1.192-2"))
	require.False(t, parseInstalled("", "6.1.192-2"))
}

func TestKernelPackages(t *testing.T) {
	k := Kernel{Release: "6.1.0-56-amd64", Version: "6.1.192-2"}
	require.Equal(t, "linux-image-6.1.0-56-amd64", k.imagePackage())
	require.Equal(t, "linux-image-6.1.0-56-amd64-dbg", k.dbgPackage())
	require.Equal(t, "linux-headers-6.1.0-56-amd64", k.headersPackage())
	require.Equal(t, "linux-source-6.1", k.sourcePackage())
}

func FuzzParseAptOutput(f *testing.F) {
	f.Add(dependsOut)
	f.Add("  Candidate: 6.1.192-2\n")
	f.Fuzz(func(t *testing.T, out string) {
		if r, err := parseMetaDepends(out, "linux-headers-"); err == nil && !releasePattern.MatchString(r) {
			t.Fatalf("accepted release %q", r)
		}
		if v, err := parseCandidate(out); err == nil && (v == "" || v == "(none)") {
			t.Fatalf("accepted version %q", v)
		}
	})
}
