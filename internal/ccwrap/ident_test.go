// SPDX-License-Identifier: Apache-2.0

package ccwrap

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIdent(t *testing.T) {
	for in, want := range map[string]string{
		"GCC: (Debian 12.2.0-14) 12.2.0":                            "(Debian 12.2.0-14) 12.2.0",
		"gcc-12 (Debian 12.2.0-14) 12.2.0":                          "(Debian 12.2.0-14) 12.2.0",
		"(Debian 12.2.0-14) 12.2.0":                                 "(Debian 12.2.0-14) 12.2.0",
		"  gcc (GCC) 10.2.0 ":                                       "(GCC) 10.2.0",
		"GCC:(GCC) 7.3.0":                                           "(GCC) 7.3.0",
		"x86_64-linux-gnu-gcc-10 (Debian 10.2.1-6) 10.2.1 20210110": "(Debian 10.2.1-6) 10.2.1 20210110",
	} {
		assert.Equal(t, want, Ident(in), in)
	}
}

func TestSame(t *testing.T) {
	for _, tc := range []struct {
		a, b        string
		versionOnly bool
		want        bool
	}{
		{"GCC: (Debian 12.2.0-14) 12.2.0", "gcc-12 (Debian 12.2.0-14) 12.2.0", false, true},
		{"GCC: (Debian 12.2.0-14) 12.2.0", "gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0", false, false},
		{"GCC: (Debian 12.2.0-14) 12.2.0", "gcc (GCC) 12.2.0", false, false},
		{"GCC: (Debian 12.2.0-14) 12.2.0", "gcc (GCC) 12.2.0", true, true},
		{"GCC: (GCC) 10.2.0", "gcc (GCC) 12.2.0", true, false},
		{"GCC: something", "gcc something", true, false},
	} {
		assert.Equal(t, tc.want, Same(tc.a, tc.b, tc.versionOnly), "%q %q %v", tc.a, tc.b, tc.versionOnly)
	}
	assert.Equal(t, "12.2.0", Version("(Debian 12.2.0-14) 12.2.0"))
	assert.Equal(t, "", Version("something"))
}
