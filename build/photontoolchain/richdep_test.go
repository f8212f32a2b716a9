// SPDX-License-Identifier: Apache-2.0

package photontoolchain

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDep(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want: String() of the result
	}{
		{"gcc", "gcc"},
		{"glibc >= 2.36-3.ph5", "glibc >= 2.36-3.ph5"},
		// Photon's (systemd's Requires(post), dracut's, kpatch's on 3.0).
		{"(coreutils or coreutils-selinux or toybox)", "(coreutils or coreutils-selinux or toybox)"},
		{"(coreutils >= 8.22 or toybox)", "(coreutils >= 8.22 or toybox)"},
		{"(a if b)", "(a if b)"},
		{"(a if b else c)", "(a if b else c)"},
		{"(a unless b)", "(a unless b)"},
		{"(a unless b else c)", "(a unless b else c)"},
		{"(pkg >= 1.1 with pkg < 2)", "(pkg >= 1.1 with pkg < 2)"},
		{"(pkg without pkg-minimal)", "(pkg without pkg-minimal)"},
		{"(a and b and c)", "(a and b and c)"},
		{"((adobe >= 4.0.1) with (adobe < 5~~))", "(adobe >= 4.0.1 with adobe < 5~~)"},
		{"(gcc or (clang if (llvm and lld)))", "(gcc or (clang if (llvm and lld)))"},
		{"  (  a   or\tb )  ", "(a or b)"},
		{"(gcc)", "gcc"},
		{"(perl(File::Temp) or libc.so.6(GLIBC_2.34)(64bit))", "(perl(File::Temp) or libc.so.6(GLIBC_2.34)(64bit))"},
		{"(glibc = 1:2.36-3.ph5 if glibc-devel)", "(glibc = 1:2.36-3.ph5 if glibc-devel)"},
	} {
		d, err := ParseDep(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, d.String(), tc.in)
		back, err := ParseDep(d.String())
		require.NoError(t, err, d.String())
		assert.Equal(t, d, back, "%q reads back", d.String())
	}
	d, err := ParseDep("(a if b else c)")
	require.NoError(t, err)
	assert.Equal(t, &Dep{Op: OpIf, Args: []*Dep{{Rel: Relation{Name: "a"}}, {Rel: Relation{Name: "b"}}, {Rel: Relation{Name: "c"}}}}, d)
	d, err = ParseDep("(x >= 2 with x < 3)")
	require.NoError(t, err)
	assert.Equal(t, Relation{Name: "x", Flags: "GE", Ver: "2"}, d.Args[0].Rel)
	assert.Equal(t, Relation{Name: "x", Flags: "LT", Ver: "3"}, d.Args[1].Rel)
}

func TestParseDepRefuses(t *testing.T) {
	deep := strings.Repeat("(", 1000) + "a" + strings.Repeat(")", 1000)
	deepOr := strings.Repeat("(a or ", 1000) + "b" + strings.Repeat(")", 1000)
	for _, tc := range []struct{ in, errLike string }{
		{"(a and b or c)", `"or" after "and": parenthesise`},
		{"(a without b without c)", `"without" after "without"`},
		{"(a if b else c else d)", `no ")" after the else branch`},
		{"(a if b c)", `"c" where "else" or ")" belongs`},
		{"(a xor b)", `unknown operator "xor"`},
		{"(a", `no operator or ")"`},
		{"(a or", `"" where a dependency belongs`},
		{"(a or )", `"" where a dependency belongs`},
		{"(or a)", `"or" where a dependency belongs`},
		{"(a or b) c", "text after the closing parenthesis"},
		{"(a >= or b)", `unknown operator "b"`}, // "or" is read as the version, as rpm reads it
		{"(a ~ 1 or b)", `no operator or ")"`},
		{"(a => 1 or b)", `unknown operator "=>"`},
		{"(perl(x or b)", "a name's parentheses"},
		{"(perl(x or b))", "a name's parentheses"},
		{"()", `"" where a dependency belongs`},
		{deep, "nested deeper than 32 levels"},
		{deepOr, "nested deeper than 32 levels"},
		{"(a or " + strings.Repeat("b", maxDepLen) + ")", "a rich dependency of"},
		{"a b", "want name [OP version]"},
	} {
		_, err := ParseDep(tc.in)
		require.ErrorIs(t, err, ErrBadDependency, truncate(tc.in, 40))
		assert.ErrorContains(t, err, tc.errLike, truncate(tc.in, 40))
	}
}
