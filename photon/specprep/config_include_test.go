// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigEdits(t *testing.T) {
	edits, ok := configEdits("# comment\nsed -i 's/A=m/A=y/' .config\n\nsed -i 's/B=m/B=y/g' .config\n")
	require.True(t, ok)
	assert.Equal(t, []sedEdit{{"A=m", "A=y", false}, {"B=m", "B=y", true}}, edits)
	for _, script := range []string{
		"",
		"make olddefconfig\n",
		"sed -i 's/A=m/A=y/' other.config\n",
		"sed -i '3d' .config\n",
		"sed -i 's/A.*/B/' .config\n",
		"sed -i 's/A/B/' .config && echo\n",
	} {
		_, ok := configEdits(script)
		assert.False(t, ok, script)
	}
}

func TestConfigIncludes(t *testing.T) {
	dir := t.TempDir()
	body := "%global fips 1\n%prep\n%build\n%if 0%{?fips}\n%include %{SOURCE17}\n%else\n%include %{SOURCE18}\n%endif\n%include %{SOURCE5}\n%install\n%include other.inc\n"
	s, err := ParseSpec("t.spec", []byte("Name: linux\nVersion: 1.0.0\nRelease: 1\nSource5: check.inc\nSource17: modify.inc\nSource18: kat.inc\n"+body), SpecOptions{SourceDir: dir})
	require.NoError(t, err)
	require.Len(t, s.ConfigIncludes, 2)
	assert.Equal(t, filepath.Join(dir, "modify.inc"), s.ConfigIncludes[0].File)
	assert.Equal(t, filepath.Join(dir, "check.inc"), s.ConfigIncludes[1].File)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "modify.inc"), []byte("sed -i 's/X=m/X=y/' .config\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "check.inc"), []byte("make olddefconfig\nsed -i 's/X=y/X=m/' .config\n"), 0o644))
	var events []string
	out, err := ApplyConfigIncludes(s, dir, []byte("X=m\nY=m\n"), func(_ PrepareStep, d string) { events = append(events, d) })
	require.NoError(t, err)
	assert.Equal(t, "X=y\nY=m\n", string(out))
	assert.Equal(t, []string{"applied %include modify.inc", "skipped %include check.inc: it does more than edit .config"}, events)

	require.NoError(t, os.Remove(filepath.Join(dir, "check.inc")))
	_, err = ApplyConfigIncludes(s, dir, nil, func(PrepareStep, string) {})
	require.ErrorIs(t, err, ErrUnsupportedSpec)
	assert.Contains(t, err.Error(), "check.inc is not in the source RPM")
}
