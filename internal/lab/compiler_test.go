// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConfigCompiler(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, ".config")
	require.NoError(t, os.WriteFile(config, []byte("CONFIG_X=y\nCONFIG_CC_VERSION_TEXT=\"gcc-10 (Debian 10.2.1-6) 10.2.1 20210110\"\n"), 0o644))
	cc, err := ConfigCompiler(config)
	require.NoError(t, err)
	require.Equal(t, "gcc-10 (Debian 10.2.1-6) 10.2.1 20210110", cc)

	require.NoError(t, os.WriteFile(config, []byte("CONFIG_X=y\n"), 0o644))
	_, err = ConfigCompiler(config)
	require.ErrorContains(t, err, "no CONFIG_CC_VERSION_TEXT")
}

func TestCheckBuiltBy(t *testing.T) {
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("needs gcc")
	}
	dir := t.TempDir()
	src, obj := filepath.Join(dir, "a.c"), filepath.Join(dir, "a.o")
	require.NoError(t, os.WriteFile(src, []byte("int a;\n"), 0o644))
	require.NoError(t, exec.Command(cc, "-c", "-o", obj, src).Run())
	out, err := exec.Command(cc, "--version").Output()
	require.NoError(t, err)
	first, _, _ := strings.Cut(string(out), "\n")
	_, ident, ok := strings.Cut(first, " ") // "gcc (Debian 12.2.0-14) 12.2.0"
	require.True(t, ok, first)
	require.NoError(t, CheckBuiltBy(obj, ident))
	require.ErrorContains(t, CheckBuiltBy(obj, "(GCC) 1.0"), "not the kernel's compiler")
	require.NoError(t, exec.Command(cc, "-c", "-fno-ident", "-o", obj, src).Run())
	require.Error(t, CheckBuiltBy(obj, ident), "no compiler named")
}
