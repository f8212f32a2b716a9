// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/rpmpkg"
)

func TestDevelPackageNames(t *testing.T) {
	for _, c := range []struct{ uname, file, repo, headers string }{
		{"6.1.138-2.ph5", "linux-devel-6.1.138-2.ph5.x86_64.rpm", "5.0/photon_updates_5.0_x86_64", "/usr/src/linux-headers-6.1.138-2.ph5"},
		{"5.10.237-1.ph4-aws", "linux-aws-devel-5.10.237-1.ph4.x86_64.rpm", "4.0/photon_updates_4.0_x86_64", "/usr/src/linux-headers-5.10.237-1.ph4-aws"},
		{"5.10.118-rt67-3.ph4-rt", "linux-rt-devel-5.10.118-3.ph4.x86_64.rpm", "4.0/photon_updates_4.0_x86_64", "/usr/src/linux-headers-5.10.118-rt67-3.ph4-rt"},
	} {
		k := photon.MustParseKernel(c.uname)
		assert.Equal(t, c.file, DevelPackage.FileName(k))
		assert.Equal(t, "x86_64/"+c.file, DevelPackage.PackagePath(k))
		assert.Equal(t, c.repo, DevelPackage.RepoPath(k.Release()))
		assert.Equal(t, c.headers, k.HeadersDir())
		assert.Equal(t, "devel RPM", DevelPackage.String())
	}
}

// buildDevel makes a devel RPM holding symvers at the kernel's headers
// directory, as Photon's linux-devel does.
func buildDevel(t *testing.T, k photon.Kernel, symvers []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, rpmpkg.Write(&buf, rpmpkg.Spec{
		Name: k.Package() + "-devel", Version: k.Version.String(), Release: k.RPMRelease(), Arch: "x86_64",
		Summary: "Kernel Dev", License: "GPLv2",
		Files: []rpmpkg.File{
			{Name: k.HeadersDir(), Mode: fs.ModeDir | 0o755},
			{Name: k.HeadersDir() + "/.config", Body: []byte("CONFIG_X=y\n"), Mode: 0o644},
			{Name: k.ModuleSymversPath(), Body: symvers, Mode: 0o644},
			{Name: "/lib/modules/" + k.String() + "/build", Mode: fs.ModeSymlink | 0o777, LinkTarget: k.HeadersDir()},
		},
	}))
	return buf.Bytes()
}

// TestFetchDevel: the devel RPM is looked up in the updates repository,
// then in the release repository, checked against the metadata, and its
// Module.symvers extracted; a kernel without one is ErrPackageNotFound.
func TestFetchDevel(t *testing.T) {
	ga, update, none := photon.MustParseKernel("6.1.10-11.ph5"), photon.MustParseKernel("6.1.138-2.ph5-aws"), photon.MustParseKernel("6.1.138-3.ph5")
	root := t.TempDir()
	publish := func(k photon.Kernel, dir string, data, listed []byte) {
		href := DevelPackage.PackagePath(k)
		writeFile(t, filepath.Join(root, dir, href), data)
		sum := sha256.Sum256(listed)
		writeRepodata(t, filepath.Join(root, dir), []PackageEntry{{Name: k.Package() + "-devel", Href: href, SHA256: hex.EncodeToString(sum[:]),
			Size: int64(len(listed)), Version: k.Version.String(), Release: k.RPMRelease(), Arch: "x86_64"}})
	}
	gaSymvers, updSymvers := []byte("0x1\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n"), []byte("0x2\tkmalloc\tvmlinux\tEXPORT_SYMBOL\t\n")
	dirs := binaryRepoDirs(5)
	publish(update, dirs[0], buildDevel(t, update, updSymvers), buildDevel(t, update, updSymvers))
	publish(ga, dirs[1], buildDevel(t, ga, gaSymvers), buildDevel(t, ga, gaSymvers))
	srv := httptest.NewServer(http.FileServer(http.Dir(root)))
	defer srv.Close()
	r := &Repo{BaseURLs: []string{srv.URL}, CacheDir: t.TempDir(), Download: &DownloadOptions{Attempts: 1}}

	for k, want := range map[photon.Kernel][]byte{update: updSymvers, ga: gaSymvers} {
		p, err := r.Fetch(context.Background(), k, DevelPackage)
		require.NoError(t, err, k.String())
		dest := t.TempDir()
		got, err := ExtractModuleSymvers(context.Background(), k, p, dest)
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(dest, "Module.symvers"), got)
		data, err := os.ReadFile(got)
		require.NoError(t, err)
		assert.Equal(t, want, data, k.String())
		entries, err := os.ReadDir(dest)
		require.NoError(t, err)
		assert.Len(t, entries, 1, "only Module.symvers is left in %s", dest)
	}

	_, err := r.Fetch(context.Background(), none, DevelPackage)
	require.ErrorIs(t, err, ErrPackageNotFound)

	// A package that is not the one the metadata lists fails, and is not
	// "not found": the caller must not fall back silently.
	tampered := photon.MustParseKernel("6.1.138-4.ph5")
	publish(tampered, dirs[0], buildDevel(t, tampered, []byte("evil")), buildDevel(t, tampered, updSymvers))
	_, err = r.Fetch(context.Background(), tampered, DevelPackage)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrPackageNotFound)

	// A devel RPM without Module.symvers is refused by name.
	var buf bytes.Buffer
	require.NoError(t, rpmpkg.Write(&buf, rpmpkg.Spec{Name: "linux-devel", Version: "6.1.138", Release: "2.ph5", Arch: "x86_64", Summary: "x", License: "GPLv2",
		Files: []rpmpkg.File{{Name: "/usr/src/linux-headers-6.1.138-2.ph5/.config", Body: []byte("x"), Mode: 0o644}}}))
	empty := filepath.Join(t.TempDir(), "empty.rpm")
	require.NoError(t, os.WriteFile(empty, buf.Bytes(), 0o644))
	_, err = ExtractModuleSymvers(context.Background(), photon.MustParseKernel("6.1.138-2.ph5"), empty, t.TempDir())
	require.ErrorContains(t, err, "has no /usr/src/linux-headers-6.1.138-2.ph5/Module.symvers")
}

func TestExtractModuleDebug(t *testing.T) {
	k := photon.MustParseKernel("6.1.138-2.ph5")
	mods := k.ModuleDebugDir()
	var buf bytes.Buffer
	require.NoError(t, rpmpkg.Write(&buf, rpmpkg.Spec{Name: "linux-debuginfo", Version: "6.1.138", Release: "2.ph5", Arch: "x86_64", Summary: "x", License: "GPLv2",
		Files: []rpmpkg.File{
			{Name: k.VmlinuxPath(), Body: []byte("vmlinux"), Mode: 0o644},
			{Name: mods + "/kernel/fs/xfs/xfs.ko.debug", Body: []byte("xfs"), Mode: 0o644},
			{Name: mods + "/kernel/drivers/net/e1000.ko.debug", Body: []byte("e1000"), Mode: 0o644},
			{Name: "/usr/lib/debug/lib/modules/6.1.138-1.ph5/kernel/other.ko.debug", Body: []byte("other kernel"), Mode: 0o644},
		}}))
	rpm := filepath.Join(t.TempDir(), "debuginfo.rpm")
	require.NoError(t, os.WriteFile(rpm, buf.Bytes(), 0o644))
	dest := t.TempDir()
	dir, n, err := ExtractModuleDebug(context.Background(), k, rpm, dest)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dest, "usr/lib/debug/lib/modules/6.1.138-2.ph5"), dir)
	assert.Equal(t, 2, n)
	data, err := os.ReadFile(filepath.Join(dir, "kernel/fs/xfs/xfs.ko.debug"))
	require.NoError(t, err)
	assert.Equal(t, "xfs", string(data))
	assert.NoFileExists(t, filepath.Join(dir, "vmlinux-6.1.138-2.ph5"), "only module debug files")
	assert.NoDirExists(t, filepath.Join(dest, "usr/lib/debug/lib/modules/6.1.138-1.ph5"), "only this kernel's")

	_, n, err = ExtractModuleDebug(context.Background(), photon.MustParseKernel("6.1.138-9.ph5"), rpm, t.TempDir())
	require.NoError(t, err)
	assert.Zero(t, n, "a kernel without modules")
}
