package build

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckTreeMatches(t *testing.T) {
	cfg := "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n"
	dir := fakeTree(t, cfg)
	other := filepath.Join(t.TempDir(), "config")
	writeFile(t, other, cfg)
	tree := &Tree{Release: "6.1.0-56-amd64", Dir: dir, Config: other, KbuildDir: dir}
	require.NoError(t, checkTreeMatches(tree, parseKconfig([]byte(cfg))))

	err := checkTreeMatches(tree, parseKconfig([]byte(cfg+"CONFIG_X=y\n")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CONFIG_X")

	writeFile(t, filepath.Join(dir, "include/config/kernel.release"), "6.1.0-55-amd64\n")
	err = checkTreeMatches(tree, parseKconfig([]byte(cfg)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "6.1.0-55-amd64")
	tree.MakeArgs = []string{"KERNELRELEASE=6.1.0-56-amd64"}
	require.NoError(t, checkTreeMatches(tree, parseKconfig([]byte(cfg))), "an explicit KERNELRELEASE wins")
}

func TestKernelReleaseErrors(t *testing.T) {
	_, err := KernelRelease(filepath.Join(t.TempDir(), "missing"))
	require.Error(t, err)
	notELF := filepath.Join(t.TempDir(), "vmlinux")
	writeFile(t, notELF, "Linux version 6.1.0 (not an ELF)")
	_, err = KernelRelease(notELF)
	require.Error(t, err)
}
