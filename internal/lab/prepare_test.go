// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"archive/tar"
	"bytes"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const fakeRelease, fakeVersion = "6.1.0-99-amd64", "6.1.999-1"

// fakeTools puts stand-ins for apt-cache, apt-get, dpkg-query, dpkg-deb and
// make first in PATH. They record their calls in the returned log file;
// FAKE_FAIL=<package> makes apt-get download of that package fail.
func fakeTools(t *testing.T, root string) (logFile string) {
	t.Helper()
	bin, debs := t.TempDir(), t.TempDir()
	logFile = filepath.Join(t.TempDir(), "calls.log")
	image := map[string]string{
		"./boot/vmlinuz-" + fakeRelease: "bzImage", "./boot/config-" + fakeRelease: "CONFIG_X=y\n",
		"./lib/modules/" + fakeRelease + "/kernel/fs/ext4/ext4.ko": "not kept",
	}
	for _, m := range GuestModules {
		image["./lib/modules/"+fakeRelease+"/kernel/"+m] = "module " + m
	}
	writeTar(t, filepath.Join(debs, "linux-image-"+fakeRelease+".tar"), image)
	writeTar(t, filepath.Join(debs, "linux-image-"+fakeRelease+"-dbg.tar"), map[string]string{
		"./usr/lib/debug/boot/vmlinux-" + fakeRelease:    "ELF",
		"./usr/lib/debug/boot/System.map-" + fakeRelease: strings.Repeat("ffffffff81000000 T _text\n", 50000),
	})
	src := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(src, "linux-source-6.1"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "linux-source-6.1", "Makefile"), []byte("all:\n"), 0o644))
	out, err := exec.Command("tar", "-cJf", filepath.Join(src, "linux-source-6.1.tar.xz"), "-C", src, "linux-source-6.1").CombinedOutput()
	require.NoError(t, err, "%s", out)
	tarball, err := os.ReadFile(filepath.Join(src, "linux-source-6.1.tar.xz"))
	require.NoError(t, err)
	writeTar(t, filepath.Join(debs, "linux-source-6.1.tar"), map[string]string{"./usr/src/linux-source-6.1.tar.xz": string(tarball)})

	headers := filepath.Join(root, "lib/modules", fakeRelease, "build")
	scripts := map[string]string{
		"apt-cache": `case "$1" in
depends) echo "linux-headers-amd64"; echo "  Depends: linux-headers-` + fakeRelease + `";;
policy) echo "$2:"; echo "  Candidate: ` + fakeVersion + `";;
esac`,
		"apt-get": `pkg=${3%%=*}; [ "$1" = download ] && pkg=${3%%=*}
case "$1" in
download) [ "$FAKE_FAIL" = "$pkg" ] && { echo "E: fake failure" >&2; exit 100; }; : > "${pkg}_` + fakeVersion + `_amd64.deb";;
install) mkdir -p ` + headers + ` && echo CONFIG_LIVEPATCH=y > ` + headers + `/.config;;
esac`,
		"dpkg-query": `[ -f ` + headers + `/.config ] && printf 'install ok installed ` + fakeVersion + `'; exit 0`,
		"dpkg-deb":   `cat ` + debs + `/$(basename "$2" | cut -d_ -f1).tar`,
		"make":       `exit 0`,
	}
	for name, body := range scripts {
		script := "#!/bin/sh\necho \"" + name + " $*\" >> " + logFile + "\n" + body + "\n"
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755))
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	return logFile
}

func writeTar(t *testing.T, name string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for n, body := range files {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, os.WriteFile(name, buf.Bytes(), 0o644))
}

func calls(t *testing.T, logFile string) string {
	b, err := os.ReadFile(logFile)
	if os.IsNotExist(err) {
		return ""
	}
	require.NoError(t, err)
	require.NoError(t, os.Remove(logFile))
	return string(b)
}

func TestPrepareIsIdempotentAndRestartable(t *testing.T) {
	root, dir := t.TempDir(), t.TempDir()
	logFile := fakeTools(t, root)
	var progress bytes.Buffer
	cfg := Config{Dir: dir, Root: root, Source: true, Logger: slog.New(slog.NewTextHandler(&progress, nil))}

	// Cold: every step runs.
	l, err := Prepare(t.Context(), cfg)
	require.NoError(t, err)
	got := calls(t, logFile)
	for _, want := range []string{
		"apt-get download -q linux-image-" + fakeRelease + "=" + fakeVersion,
		"apt-get download -q linux-image-" + fakeRelease + "-dbg=" + fakeVersion,
		"apt-get install -y -q --no-install-recommends linux-headers-" + fakeRelease + "=" + fakeVersion,
		"apt-get download -q linux-source-6.1=" + fakeVersion,
		"make CC=gcc-12 HOSTCC=gcc-12 KERNELRELEASE=" + fakeRelease + " olddefconfig",
		"make CC=gcc-12 HOSTCC=gcc-12 KERNELRELEASE=" + fakeRelease + " -j",
	} {
		require.Contains(t, got, want)
	}
	opened, err := Open(dir)
	require.NoError(t, err)
	require.Equal(t, l, opened)
	require.Equal(t, filepath.Join(dir, fakeRelease, "source"), l.SourceDir)
	require.FileExists(t, filepath.Join(l.SourceDir, "Makefile"))
	require.FileExists(t, filepath.Join(l.SourceDir, ".config"))
	require.NoDirExists(t, filepath.Join(dir, fakeRelease, "download"), "downloaded .debs must be deleted")
	// The last line says what the run did.
	require.Contains(t, progress.String(), `msg="lab ready: unpacked the guest's modules; unpacked vmlinuz and the config; unpacked vmlinux and System.map; installed linux-headers-`+fakeRelease+"="+fakeVersion+`; unpacked the source tree; prepared the source tree"`)
	require.NotContains(t, progress.String(), "nothing to do")

	// Warm: nothing but the apt-cache lookups and the dpkg-query check.
	progress.Reset()
	_, err = Prepare(t.Context(), cfg)
	require.NoError(t, err)
	got = calls(t, logFile)
	require.NotContains(t, got, "apt-get")
	require.NotContains(t, got, "make")
	require.Contains(t, progress.String(), "nothing to do")

	// An interrupted step (marker missing, download failing) is not taken as
	// done, and is redone alone once it can succeed.
	require.NoError(t, os.Remove(filepath.Join(dir, fakeRelease, markDbg)))
	t.Setenv("FAKE_FAIL", "linux-image-"+fakeRelease+"-dbg")
	_, err = Prepare(t.Context(), cfg)
	require.ErrorContains(t, err, "fake failure")
	require.NoFileExists(t, filepath.Join(dir, fakeRelease, markDbg))
	t.Setenv("FAKE_FAIL", "")
	calls(t, logFile)
	_, err = Prepare(t.Context(), cfg)
	require.NoError(t, err)
	got = calls(t, logFile)
	require.Contains(t, got, "-dbg=")
	require.NotContains(t, got, "linux-source-6.1=")
	require.NotContains(t, got, "make")
}

func TestPrepareRemovesOldKernels(t *testing.T) {
	root, dir := t.TempDir(), t.TempDir()
	fakeTools(t, root)
	old := filepath.Join(dir, "6.1.0-1-amd64")
	require.NoError(t, os.MkdirAll(old, 0o755))
	keep := filepath.Join(dir, "not-a-kernel")
	require.NoError(t, os.MkdirAll(keep, 0o755))
	_, err := Prepare(t.Context(), Config{Dir: dir, Root: root})
	require.NoError(t, err)
	require.NoDirExists(t, old)
	require.DirExists(t, keep)
}

// A lab whose image step ran before modules were kept fetches the image
// once more for them, and only for them.
func TestPrepareAddsModulesToOldLab(t *testing.T) {
	root, dir := t.TempDir(), t.TempDir()
	logFile := fakeTools(t, root)
	cfg := Config{Dir: dir, Root: root}
	l, err := Prepare(t.Context(), cfg)
	require.NoError(t, err)
	got, err := l.ModuleFiles()
	require.NoError(t, err)
	require.Len(t, got, len(GuestModules))
	require.Contains(t, got, filepath.Join(fakeRelease, "kernel/fs/xfs/xfs.ko"))
	require.NoFileExists(t, filepath.Join(l.ModulesDir, fakeRelease, "kernel/fs/ext4/ext4.ko"), "only the listed modules are kept")
	require.Equal(t, 1, strings.Count(calls(t, logFile), "apt-get download -q linux-image-"+fakeRelease+"="), "a fresh lab fetches the image once")

	require.NoError(t, os.RemoveAll(l.ModulesDir))
	require.NoError(t, os.Remove(filepath.Join(dir, fakeRelease, markModules)))
	_, err = l.ModuleFiles()
	require.ErrorIs(t, err, ErrNotPrepared)
	l, err = Prepare(t.Context(), cfg)
	require.NoError(t, err)
	log := calls(t, logFile)
	require.Contains(t, log, "apt-get download -q linux-image-"+fakeRelease+"=")
	require.NotContains(t, log, "-dbg=")
	xfs, err := os.ReadFile(filepath.Join(l.ModulesDir, fakeRelease, "kernel/fs/xfs/xfs.ko"))
	require.NoError(t, err)
	require.Equal(t, "module fs/xfs/xfs.ko", string(xfs))

	_, err = (&Lab{Dir: dir}).ModuleFiles()
	require.ErrorIs(t, err, ErrNotPrepared, "a manifest from before modules were kept")
}
