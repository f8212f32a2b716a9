// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDebianCompiler(t *testing.T) {
	for _, tc := range []struct{ ident, want string }{
		{"gcc-10 (Debian 10.2.1-6) 10.2.1 20210110", "gcc-10=10.2.1-6"},
		{"(Debian 10.2.1-6) 10.2.1 20210110", "gcc-10=10.2.1-6"},
		{"gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0", "gcc-12=12.2.0-14+deb12u1"},
		{"(Debian 12.2.0-14) 12.2.0", "gcc-12=12.2.0-14"},
		{"x86_64-linux-gnu-gcc-12 (Debian 12.2.0-14) 12.2.0", "gcc-12=12.2.0-14"},
		{"gcc (GCC) 10.2.0", ""},
		{"gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0", ""},
		{"(Debian 12.2.0-14) 10.2.0", ""},
		{"(Debian ) 12.2.0", ""},
		{"clang version 14.0.6", ""},
		{"", ""},
	} {
		got, err := DebianCompiler(tc.ident)
		if tc.want == "" {
			assert.ErrorIs(t, err, ErrUnknownCompiler, tc.ident)
			continue
		}
		require.NoError(t, err, tc.ident)
		assert.Equal(t, tc.want, got, tc.ident)
	}
}
