// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func parseTestSpec(t *testing.T, body string, defines map[string]string) (*Spec, error) {
	t.Helper()
	head := "Name: linux\nVersion: 6.1.10\nRelease: 1%{?dist}\nSource0: linux-%{version}.tar.xz\n"
	return ParseSpec("t.spec", []byte(head+body), SpecOptions{Dist: ".ph5", Defines: defines, SourceDir: "/src"})
}

func prepTexts(s *Spec) []string {
	var out []string
	for _, l := range s.Prep {
		out = append(out, l.Text)
	}
	return out
}

func TestParseSpecConditionals(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		defines map[string]string
		want    []string
	}{
		{"ifarch", "%prep\n%ifarch x86_64\na\n%else\nb\n%endif\n%ifnarch x86_64\nc\n%endif\n", nil, []string{"a"}},
		{"ifarch list", "%prep\n%ifarch aarch64 x86_64\na\n%endif\n", nil, []string{"a"}},
		{"defined", "%prep\n%if 0%{?fips}\nf\n%endif\n", map[string]string{"fips": "1"}, []string{"f"}},
		{"undefined", "%prep\n%if 0%{?fips}\nf\n%else\ng\n%endif\n", nil, []string{"g"}},
		{"fips zero", "%global fips 0\n%prep\n%if 0%{?fips} == 0\nz\n%endif\n", nil, []string{"z"}},
		{"string compare", "%prep\n%if \"%{dist}\" == \".ph5\"\nd\n%endif\n", nil, []string{"d"}},
		{"subrelease", "%prep\n%if 0%{?photon_subrelease} <= 90\nold\n%else\nnew\n%endif\n", map[string]string{"photon_subrelease": "91"}, []string{"new"}},
		{"and", "%prep\n%if 0%{?acvp_build:1} && 0%{?fips}\nx\n%endif\ny\n", map[string]string{"fips": "1"}, []string{"y"}},
		{"or not", "%prep\n%if !0%{?kat_build} || 0\nx\n%endif\n", nil, []string{"x"}},
		{"nested", "%prep\n%if 0\n%if 1\na\n%else\nb\n%endif\n%else\nc\n%endif\n", nil, []string{"c"}},
		{"elif", "%prep\n%if 0\na\n%elif 1\nb\n%else\nc\n%endif\n", nil, []string{"b"}},
		{"conditional across sections", "%if 0\n%prep\nwrong\n%endif\n%prep\nright\n", nil, []string{"right"}},
		{"other sections skipped", "%description\n%if %(weird)\n%endif\n%prep\na\n%build\nb\n%files\n/x\n", nil, []string{"a"}},
		{"continuation", "%prep\ncp a \\\n  b\n", nil, []string{"cp a  b"}},
		{"lazy define", "%define x %{y}\n%define y 2\n%prep\n%{x}\n", nil, []string{"2"}},
		{"global eager", "%global fips 1\n%if 0%{?kat_build:1}\n%global fips 0\n%endif\n%prep\nv%{fips}\n", map[string]string{"kat_build": "1"}, []string{"v0"}},
		{"conditional define", "%{!?sitelib: %define sitelib %(python3 -c x)}\n%prep\nok\n", nil, []string{"ok"}},
		{"percent escape", "%prep\necho 100%%\n", nil, []string{"echo 100%"}},
		{"bare directive kept", "%prep\n%setup -q -n linux-%{version}\n", nil, []string{"%setup -q -n linux-6.1.10"}},
		{"source macro", "%prep\ncp %{SOURCE0} .\n", nil, []string{"cp /src/linux-6.1.10.tar.xz ."}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := parseTestSpec(t, c.body, c.defines)
			require.NoError(t, err)
			assert.Equal(t, c.want, prepTexts(s))
		})
	}
}

func TestParseSpecTags(t *testing.T) {
	_, err := ParseSpec("linux-rt.spec", []byte(`
Name:    linux-rt
Version: 5.10.118
%define rt_version rt67
Release: 3%{?kat_build:.kat}%{?dist}
Source0: http://www.kernel.org/pub/linux/kernel/v5.x/linux-%{version}.tar.xz
Source1: config-rt
Source:  ignored-duplicate
Patch0:  a.patch
Patch301: https://example.org/p/b.patch
%prep
`), SpecOptions{Dist: ".ph4", SourceDir: "/s"})
	require.Error(t, err, "Source: is Source0, defined twice")
	assert.Contains(t, err.Error(), "source0 defined twice")

	s, err := ParseSpec("linux-rt.spec", []byte(`
Name:    linux-rt
Version: 5.10.118
Release: 3%{?kat_build:.kat}%{?dist}
Source0: http://www.kernel.org/pub/linux/kernel/v5.x/linux-%{version}.tar.xz
Source1: config-rt
Patch0:  a.patch
Patch301: https://example.org/p/b.patch
%prep
`), SpecOptions{Dist: ".ph4", SourceDir: "/s", Defines: map[string]string{"kat_build": "1"}})
	require.NoError(t, err)
	assert.Equal(t, "linux-rt", s.Name)
	assert.Equal(t, "5.10.118", s.Version)
	assert.Equal(t, "3.kat.ph4", s.Release)
	assert.Equal(t, map[int]string{0: "linux-5.10.118.tar.xz", 1: "config-rt"}, s.Sources)
	assert.Equal(t, map[int]string{0: "a.patch", 301: "b.patch"}, s.Patches)
}

func TestParseSpecErrors(t *testing.T) {
	cases := map[string]string{
		"missing endif":      "%prep\n%if 1\n",
		"stray endif":        "%prep\n%endif\n",
		"stray else":         "%prep\n%else\n",
		"undefined macro":    "%prep\necho %{nope}\n",
		"shell expansion":    "%prep\necho %(date)\n",
		"expression":         "%prep\necho %[1+1]\n",
		"include missing":    "%include %{SOURCE0}\n%prep\n",
		"include outside":    "%include /etc/passwd\n%prep\n",
		"unknown directive":  "%bcond_with foo\n%prep\n",
		"bad condition":      "%prep\n%if fips\n%endif\n",
		"parametric":         "%define f(x) y\n%prep\n",
		"unnumbered patch":   "Patch: a.patch\n%prep\n",
		"no prep":            "%build\n",
		"two preps":          "%prep\n%prep\n",
		"recursive macro":    "%define a %{a}\n%prep\n%{a}\n",
		"not a tag":          "hello world\n%prep\n",
		"hostile source":     "Source9: ..\n%prep\n",
		"division by zero":   "%prep\n%if 1/0\n%endif\n",
		"string arithmetic":  "%prep\n%if \"a\" + 1\n%endif\n",
		"unterminated brace": "%prep\necho %{version\n",
		"expansion bomb":     bomb(),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseTestSpec(t, body, nil)
			require.ErrorIs(t, err, ErrUnsupportedSpec)
			assert.Contains(t, err.Error(), "t.spec")
		})
	}
}

// bomb defines macros that double at each level.
func bomb() string {
	var b strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&b, "%%define m%d %%{m%d}%%{m%d}\n", i, i+1, i+1)
	}
	b.WriteString("%define m30 xxxxxxxxxxxxxxxx\n%prep\n%{m0}\n")
	return b.String()
}

func TestParseSpecPreambleInclude(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rt.patches"), []byte("# list\nPatch301: a.patch\n%ifarch x86_64\nPatch302: b.patch\n%endif\n%include %{SOURCE3}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "more.patches"), []byte("Patch303: c.patch\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "loop.patches"), []byte("%include %{SOURCE4}\n"), 0o644))
	head := "Name: linux-rt\nVersion: 6.1.10\nRelease: 1%{?dist}\nSource2: rt.patches\nSource3: more.patches\nSource4: loop.patches\n"
	s, err := ParseSpec("t.spec", []byte(head+"%include %{SOURCE2}\n%prep\n"), SpecOptions{Dist: ".ph5", SourceDir: dir})
	require.NoError(t, err)
	assert.Equal(t, map[int]string{301: "a.patch", 302: "b.patch", 303: "c.patch"}, s.Patches)

	_, err = ParseSpec("t.spec", []byte(head+"%include %{SOURCE4}\n%prep\n"), SpecOptions{SourceDir: dir})
	require.ErrorIs(t, err, ErrUnsupportedSpec)
	assert.Contains(t, err.Error(), "nested deeper")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.patches"), []byte("Patch1: a.patch\n%bcond_with x\n"), 0o644))
	_, err = ParseSpec("t.spec", []byte(head+"Source5: bad.patches\n%include %{SOURCE5}\n%prep\n"), SpecOptions{SourceDir: dir})
	require.ErrorIs(t, err, ErrUnsupportedSpec)
	assert.Contains(t, err.Error(), "in bad.patches line 2")
}

func TestShellConditional(t *testing.T) {
	run := func(lines ...string) ([]string, error) {
		var ifs []shellIf
		var kept []string
		for i, text := range lines {
			h, err := shellConditional(SpecLine{Line: i + 1, Text: text}, &ifs)
			if err != nil {
				return nil, err
			}
			if !h && shellActive(ifs) {
				kept = append(kept, text)
			}
		}
		return kept, nil
	}
	kept, err := run("a", "if [ x86_64 != x86_64 ]; then", "b", "else", "c", "fi", "d")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "c", "d"}, kept)
	kept, err = run(`if [ "a" = "a" ]; then`, "if [ 1 != 2 ]; then", "x", "fi", "fi")
	require.NoError(t, err)
	assert.Equal(t, []string{"x"}, kept)
	kept, err = run("if [ a == b ]; then", "if [ -f x ]; then", "y", "fi", "fi")
	require.NoError(t, err, "an unsupported test inside a false branch is never evaluated")
	assert.Empty(t, kept)
	for _, bad := range [][]string{{"fi"}, {"else"}, {"if [ -f .config ]; then"}, {"if grep -q x .config; then"}} {
		_, err := run(bad...)
		assert.Error(t, err, bad)
	}
}

func TestEvalCondition(t *testing.T) {
	cases := map[string]bool{
		"1": true, "0": false, "01": true, "00": false, "1 && 0": false, "1 || 0": true,
		"!0": true, "(1 || 0) && !1": false, `"a" == "a"`: true, `"a" != "a"`: false,
		`"" `: false, `"x"`: true, "2 > 1": true, "2 >= 3": false, "1 + 2 == 3": true,
		"2 * 3 - 6": false, "-1 < 0": true, "10 / 3 == 3": true, "090 <= 90": true,
	}
	for expr, want := range cases {
		got, err := evalCondition(expr)
		require.NoError(t, err, expr)
		assert.Equal(t, want, got, expr)
	}
	for _, bad := range []string{"", "(", "1 +", "1 == \"a\"", "fips", "1 2", "\"open", strings.Repeat("(", 5000)} {
		_, err := evalCondition(bad)
		assert.Error(t, err, bad)
	}
}

func TestShellWords(t *testing.T) {
	got, err := shellWords(`sed -i 's/A="-rt"/A="-3.ph4-rt"/' .config`)
	require.NoError(t, err)
	assert.Equal(t, []string{"sed", "-i", `s/A="-rt"/A="-3.ph4-rt"/`, ".config"}, got)
	got, err = shellWords(`cp "a b"  c`)
	require.NoError(t, err)
	assert.Equal(t, []string{"cp", "a b", "c"}, got)
	for _, bad := range []string{"a | b", "a; b", "echo $HOME", "a && b", "cat > f", "`x`", "'open", `"$x"`, "ls *.c"} {
		_, err := shellWords(bad)
		assert.Error(t, err, bad)
	}
}

func TestParseSedSubst(t *testing.T) {
	old, repl, global, err := parseSedSubst(`s/CONFIG_LOCALVERSION="-rt"/CONFIG_LOCALVERSION="-1.ph5-rt"/`)
	require.NoError(t, err)
	assert.Equal(t, `CONFIG_LOCALVERSION="-rt"`, old)
	assert.Equal(t, `CONFIG_LOCALVERSION="-1.ph5-rt"`, repl)
	assert.False(t, global)
	_, _, global, err = parseSedSubst("s|a|b|g")
	require.NoError(t, err)
	assert.True(t, global)
	for _, bad := range []string{"s/a.*/b/", "s/^a/b/", "s/a/b/i", "y/a/b/", "s/a/b", "s/a/&/", "s/a.b/c/"} {
		_, _, _, err := parseSedSubst(bad)
		assert.Error(t, err, bad)
	}
}

func TestParseSedDelete(t *testing.T) {
	lit, ok := parseSedDelete("/depmod/d")
	assert.True(t, ok)
	assert.Equal(t, "depmod", lit)
	for _, bad := range []string{"/a.*/d", "/^x/d", "/x/p", "//d", "s/a/b/"} {
		_, ok := parseSedDelete(bad)
		assert.False(t, ok, bad)
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, seed := range []string{
		"Name: linux\nVersion: 1.2.3\nRelease: 1%{?dist}\n%prep\n%setup -q\n%autopatch -p1 -m0 -M9\n",
		"%{!?x: %define x 1}\n%if 0%{?x} && \"%{dist}\" == \".ph4\"\n%endif\n",
		"%define a %{b}\n%define b %{a}\n%prep\n%{a}\n",
		"%ifarch x86_64\nPatch1: a\n%else\n%elif 1\n%endif\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := ParseSpec("f.spec", []byte(text), SpecOptions{Dist: ".ph4", SourceDir: "/s"})
		if err == nil && (s.Name == "" || s.Version == "") {
			t.Fatalf("accepted a spec without identity: %+v", s)
		}
	})
}

func FuzzEvalCondition(f *testing.F) {
	for _, seed := range []string{"0%{?fips}", "1 && (0 || \"a\" == \"a\")", "!-1", "9999999999999999999999", "1/0"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		_, _ = evalCondition(expr)
	})
}
