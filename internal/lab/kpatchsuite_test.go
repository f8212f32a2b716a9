// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// suiteTarball is a kpatch-like tarball of entries (a name ending in "/"
// is a directory, one holding "->" a link).
func suiteTarball(t *testing.T, entries map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		body := entries[n]
		h := &tar.Header{Name: n, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(body))}
		switch {
		case strings.HasSuffix(n, "/"):
			h.Typeflag, h.Size, h.Mode = tar.TypeDir, 0, 0o755
		case strings.HasPrefix(body, "->"):
			h.Typeflag, h.Size, h.Linkname = tar.TypeSymlink, 0, strings.TrimPrefix(body, "->")
			body = ""
		}
		require.NoError(t, tw.WriteHeader(h))
		_, err := tw.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	file := filepath.Join(t.TempDir(), "kpatch.tar.gz")
	require.NoError(t, os.WriteFile(file, buf.Bytes(), 0o644))
	return file
}

func TestUnpackKpatchSuite(t *testing.T) {
	const top = "kpatch-0.9.10/test/integration/"
	good := map[string]string{
		"kpatch-0.9.10/":                    "",
		"kpatch-0.9.10/kpatch-build/x.c":    "not kept",
		top + "linux-6.2.0/a.patch":         "other suite",
		top + "common/multiple.template":    "template",
		top + "common/other":                "not kept",
		top + "linux-5.10.11/":              "",
		top + "linux-5.10.11/a.patch":       "patch",
		top + "linux-5.10.11/a-LOADED.test": "#!/bin/bash\n",
		top + "linux-5.10.11/multiple.test": "#!/bin/bash\n",
	}
	dir := filepath.Join(t.TempDir(), "out")
	n, err := unpackKpatchSuite(suiteTarball(t, good), dir)
	require.NoError(t, err)
	require.Equal(t, 4, n)
	var kept []string
	require.NoError(t, filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			kept = append(kept, rel+" "+fi.Mode().Perm().String())
		}
		return err
	}))
	require.Equal(t, []string{
		"common/multiple.template -rw-r--r--",
		"linux-5.10.11/a-LOADED.test -rwxr-xr-x",
		"linux-5.10.11/a.patch -rw-r--r--",
		"linux-5.10.11/multiple.test -rwxr-xr-x",
	}, kept)

	for name, extra := range map[string]map[string]string{
		"link in the suite":      {top + "linux-5.10.11/b.patch": "->/etc/passwd"},
		"subdirectory":           {top + "linux-5.10.11/sub/": ""},
		"file in a subdirectory": {top + "linux-5.10.11/sub/x": "x"},
		"template as a link":     {top + "common/multiple.template": "->/etc/passwd"},
		"file too large":         {top + "linux-5.10.11/big.patch": strings.Repeat("x", maxSuiteFile+1)},
	} {
		t.Run(name, func(t *testing.T) {
			entries := map[string]string{top + "linux-5.10.11/multiple.test": "#!/bin/bash\n"}
			for k, v := range extra {
				entries[k] = v
			}
			_, err := unpackKpatchSuite(suiteTarball(t, entries), filepath.Join(t.TempDir(), "out"))
			require.Error(t, err)
		})
	}
}

// TestKpatchSuite510Lab: the 5.10 lab's preparation fetched kpatch's
// 5.10.11 suite through trixie's signed indexes, and the lab holds its 8
// patches, 3 checks and the template, nothing else, and the modules it
// patches beyond GuestModules.
func TestKpatchSuite510Lab(t *testing.T) {
	if os.Getenv("KLPKIT_VMTEST") != "1" {
		t.Skip("lab test: set KLPKIT_VMTEST=1 after `make lab` (it reads the 5.10 lab)")
	}
	l, err := Open(Bullseye510.Dir(DirFromEnv(os.Getenv)))
	require.NoError(t, err, "the 5.10 lab: make lab")
	suite, err := l.KpatchSuite510()
	require.NoError(t, err)
	entries, err := os.ReadDir(suite)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.Equal(t, []string{
		"data-new-LOADED.test", "data-new.patch", "gcc-static-local-var-6.patch", "macro-callbacks.patch",
		"module-call-external.patch", "multiple.test", "new-function.patch", "new-globals.patch",
		"syscall-LOADED.test", "syscall.patch", "warn-detect-FAIL.patch",
	}, names)
	require.FileExists(t, filepath.Join(suite, "..", "common", "multiple.template"))
	mods, err := l.KpatchSuite510ModulesDir()
	require.NoError(t, err)
	kept := map[string]bool{}
	for _, m := range KpatchSuite510Modules {
		kept[strings.ReplaceAll(strings.TrimSuffix(filepath.Base(m), ".ko"), "-", "_")] = true
	}
	for _, m := range KpatchSuite510Modules {
		f, err := elf.Open(filepath.Join(mods, l.KernelRelease, "kernel", m))
		require.NoError(t, err, "%s", m)
		sec := f.Section(".modinfo")
		require.NotNil(t, sec, "%s is a kernel module", m)
		info, err := sec.Data()
		require.NoError(t, err)
		f.Close()
		// The guest loads nfsd: everything it needs is kept.
		for _, kv := range strings.Split(string(info), "\x00") {
			if deps, ok := strings.CutPrefix(kv, "depends="); ok && deps != "" {
				for _, d := range strings.Split(deps, ",") {
					require.True(t, kept[d], "%s depends on %s, which KpatchSuite510Modules lacks", m, d)
				}
			}
		}
	}
}
