// SPDX-License-Identifier: Apache-2.0

package photontoolchain_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/photontoolchain"
	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// repoPackages is a Photon 5.0 release repository and its updates, with
// decoys: a newer and an older gcc than the kernel's, an older glibc and
// linux-api-headers, and packages nothing requires.
func repoPackages() []pkg {
	gcc := "#!/bin/sh\necho 'gcc (GCC) 12.2.0'\n"
	return []pkg{
		{repo: "release", name: "gcc", version: "11.3.0", release: "1.ph5", requires: []string{"libgcc = 11.3.0-1.ph5"}, files: map[string]string{"/usr/bin/gcc": "old"}},
		{repo: "release", name: "gcc", version: "12.2.0", release: "2.ph5", requires: []string{"binutils", "glibc-devel", "libgcc = 12.2.0-2.ph5", "/bin/sh"},
			files: map[string]string{"/usr/bin/gcc": gcc, "/usr/bin/cc": "->gcc"}},
		{repo: "release", name: "libgcc", version: "11.3.0", release: "1.ph5", files: map[string]string{"/usr/lib/libgcc_s.so.1": "11"}},
		{repo: "release", name: "libgcc", version: "12.2.0", release: "2.ph5", requires: []string{"glibc"}, files: map[string]string{"/usr/lib/libgcc_s.so.1": "12"}},
		{repo: "release", name: "binutils", version: "2.39", release: "1.ph5", requires: []string{"glibc >= 2.36"}, files: map[string]string{"/usr/bin/ld": "ld"}},
		{repo: "release", name: "glibc", version: "2.36", release: "2.ph5", files: map[string]string{"/usr/lib/libc.so.6": "2.36-2"}},
		{repo: "release", name: "glibc-devel", version: "2.36", release: "2.ph5", requires: []string{"glibc = 2.36-2.ph5"}, files: map[string]string{"/usr/include/stdio.h": "2"}},
		{repo: "release", name: "bash", version: "5.2.15", release: "1.ph5", files: map[string]string{"/usr/bin/bash": "bash", "/bin/sh": "->../usr/bin/bash"}},
		{repo: "release", name: "gawk", version: "5.1.1", release: "2.ph5", provides: []string{"awk"}, files: map[string]string{"/usr/bin/gawk": "gawk", "/usr/bin/awk": "->gawk"}},
		{repo: "release", name: "make", version: "4.3", release: "3.ph5", files: map[string]string{"/usr/bin/make": "make"}},
		{repo: "release", name: "emacs", version: "29.1", release: "1.ph5", requires: []string{"glibc"}, files: map[string]string{"/usr/bin/emacs": "emacs"}},
		{repo: "release", name: "linux-api-headers", version: "5.10.4", release: "1.ph5", files: map[string]string{"/usr/include/linux/types.h": "5.10"}},
		{repo: "updates", name: "gcc", version: "13.1.0", release: "1.ph5", requires: []string{"libgcc = 13.1.0-1.ph5"}, files: map[string]string{"/usr/bin/gcc": "new"}},
		{repo: "updates", name: "glibc", version: "2.36", release: "3.ph5", files: map[string]string{"/usr/lib/libc.so.6": "2.36-3"}},
		{repo: "updates", name: "glibc-devel", version: "2.36", release: "3.ph5", requires: []string{"glibc = 2.36-3.ph5", "linux-api-headers >= 6.1"},
			files: map[string]string{"/usr/include/stdio.h": "3"}},
		{repo: "updates", name: "linux-api-headers", version: "6.1.10", release: "1.ph5", files: map[string]string{"/usr/include/linux/types.h": "6.1"}},
	}
}

func names(l toolchain.List) []string {
	var out []string
	for _, e := range l {
		out = append(out, e.Name+" "+e.Version)
	}
	return out
}

func TestResolve(t *testing.T) {
	signer, pub := testKey(t, "Photon Test")
	base := t.TempDir()
	writeRepos(t, base, signer, repoPackages())
	srv, _ := serve(t, base)
	p := &photontoolchain.Provisioner{Release: photon.Release(5), BaseURLs: []string{srv.URL + "/nowhere", srv.URL}, SigningKeys: pub}
	idx, err := p.Index(t.Context())
	require.NoError(t, err, "the first base URL serves nothing: the second is used")
	require.Len(t, idx.Packages(), 16)

	for _, tc := range []struct {
		name    string
		want    []string
		list    []string
		wantErr string
	}{
		{name: "closure", want: []string{"gcc = 12.2.0", "make", "awk"}, list: []string{
			"bash 5.2.15-1.ph5", "binutils 2.39-1.ph5", "gawk 5.1.1-2.ph5", "gcc 12.2.0-2.ph5", "glibc 2.36-3.ph5",
			"glibc-devel 2.36-3.ph5", "libgcc 12.2.0-2.ph5", "linux-api-headers 6.1.10-1.ph5", "make 4.3-3.ph5"}},
		// The newest gcc requires a libgcc the repositories lack: the
		// next newest is taken (backtracking).
		{name: "newest that resolves without a pin", want: []string{"gcc"}, list: []string{
			"bash 5.2.15-1.ph5", "binutils 2.39-1.ph5", "gcc 12.2.0-2.ph5", "glibc 2.36-3.ph5",
			"glibc-devel 2.36-3.ph5", "libgcc 12.2.0-2.ph5", "linux-api-headers 6.1.10-1.ph5"}},
		{name: "a pin on the newest", want: []string{"gcc = 13.1.0"},
			wantErr: "libgcc = 13.1.0-1.ph5 (required by gcc 13.1.0-1.ph5): no package provides it"},
		{name: "an older pin", want: []string{"gcc = 11.3.0"}, list: []string{"gcc 11.3.0-1.ph5", "libgcc 11.3.0-1.ph5"}},
		{name: "a file", want: []string{"/bin/sh"}, list: []string{"bash 5.2.15-1.ph5"}},
		{name: "a release pin", want: []string{"glibc = 2.36-2.ph5"}, list: []string{"glibc 2.36-2.ph5"}},
		{name: "two versions of one package", want: []string{"glibc-devel = 2.36-3.ph5", "glibc = 2.36-2.ph5"},
			wantErr: "glibc = 2.36-3.ph5 (required by glibc-devel 2.36-3.ph5) needs glibc 2.36-3.ph5, and 2.36-2.ph5 is chosen already"},
		{name: "missing", want: []string{"gcc = 10.2.0"}, wantErr: "gcc = 10.2.0 (required by the package set): no package provides it"},
		{name: "bad operator", want: []string{"gcc ~ 12"}, wantErr: `unknown operator "~"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, err := idx.Resolve(tc.want)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.list, names(list))
			for _, e := range list {
				assert.Len(t, e.SHA256, 64)
				assert.Positive(t, e.Size)
				assert.Contains(t, e.URL, srv.URL+"/5.0/photon_")
			}
			// The list is a toolchain list: its text reads back the same.
			back, err := toolchain.ParseList(list.String())
			require.NoError(t, err)
			assert.Equal(t, list, back)
		})
	}
}

func TestProvision(t *testing.T) {
	signer, pub := testKey(t, "Photon Test")
	base := t.TempDir()
	writeRepos(t, base, signer, repoPackages())
	srv, rpms := serve(t, base)
	cache := t.TempDir()
	p := &photontoolchain.Provisioner{Release: photon.Release(5), BaseURLs: []string{srv.URL}, SigningKeys: pub, CacheDir: cache}
	idx, err := p.Index(t.Context())
	require.NoError(t, err)
	list, err := idx.Resolve([]string{"gcc = 12.2.0", "make"})
	require.NoError(t, err)

	// Concurrent provisioners of one list share one build (the lock).
	roots := make([]*toolchain.Root, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range roots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			roots[i], errs[i] = p.Provision(t.Context(), list)
		}()
	}
	wg.Wait()
	for i := range roots {
		require.NoError(t, errs[i])
		assert.Equal(t, roots[0].Dir, roots[i].Dir)
	}
	assert.Equal(t, int64(len(list)), rpms.Load(), "each package downloaded once")
	root := roots[0].Dir
	body, err := os.ReadFile(filepath.Join(root, "usr/bin/gcc"))
	require.NoError(t, err)
	assert.Contains(t, string(body), "gcc (GCC) 12.2.0")
	fi, err := os.Stat(filepath.Join(root, "usr/bin/gcc"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), fi.Mode().Perm())
	target, err := os.Readlink(filepath.Join(root, "bin/sh"))
	require.NoError(t, err)
	assert.Equal(t, "../usr/bin/bash", target)
	libc, err := os.ReadFile(filepath.Join(root, "usr/lib/libc.so.6"))
	require.NoError(t, err)
	assert.Equal(t, "2.36-3", string(libc), "the updates repository's glibc")
	written, err := os.ReadFile(filepath.Join(root, toolchain.ListFile))
	require.NoError(t, err)
	assert.Equal(t, list.String(), string(written), "the root says what it was built from")

	// Again: the cached root, nothing downloaded.
	again, err := p.Provision(t.Context(), list)
	require.NoError(t, err)
	assert.Equal(t, root, again.Dir)
	assert.Equal(t, int64(len(list)), rpms.Load())

	// Without signing keys the root is another (its packages were not
	// checked the same way).
	unsigned := *p
	unsigned.SigningKeys = nil
	r2, err := unsigned.Provision(t.Context(), list)
	require.NoError(t, err)
	assert.NotEqual(t, root, r2.Dir)
}

// A package that is not what the repository listed, or not signed by a
// trusted key, leaves no root.
func TestProvisionRefuses(t *testing.T) {
	signer, pub := testKey(t, "Photon Test")
	other, _ := testKey(t, "Someone Else")
	base := t.TempDir()
	pkgs := repoPackages()
	writeRepos(t, base, signer, pkgs)
	srv, _ := serve(t, base)
	p := &photontoolchain.Provisioner{Release: photon.Release(5), BaseURLs: []string{srv.URL}, SigningKeys: pub}
	idx, err := p.Index(t.Context())
	require.NoError(t, err)
	list, err := idx.Resolve([]string{"make"})
	require.NoError(t, err)
	require.Len(t, list, 1)
	file := filepath.Join(base, "5.0", "photon_release_5.0_x86_64", "x86_64", "make-4.3-3.ph5.x86_64.rpm")

	t.Run("tampered", func(t *testing.T) {
		good, err := os.ReadFile(file)
		require.NoError(t, err)
		bad := append([]byte(nil), good...)
		bad[len(bad)-10] ^= 1
		require.NoError(t, os.WriteFile(file, bad, 0o644))
		defer os.WriteFile(file, good, 0o644)
		p := *p
		p.CacheDir = t.TempDir()
		_, err = p.Provision(t.Context(), list)
		require.ErrorIs(t, err, toolchain.ErrChecksumMismatch)
		assertNoRoot(t, p.CacheDir)
	})
	t.Run("listed as another version", func(t *testing.T) {
		l := append(toolchain.List(nil), list...)
		l[0].Version = "4.3-4.ph5"
		p := *p
		p.CacheDir = t.TempDir()
		_, err := p.Provision(t.Context(), l)
		require.ErrorIs(t, err, photontoolchain.ErrPackageMismatch)
		assert.Contains(t, err.Error(), "its header says make 4.3-3.ph5")
		assertNoRoot(t, p.CacheDir)
	})
	t.Run("signed by another key", func(t *testing.T) {
		base := t.TempDir()
		writeRepos(t, base, other, pkgs)
		srv, _ := serve(t, base)
		p := *p
		p.BaseURLs, p.CacheDir = []string{srv.URL}, t.TempDir()
		idx, err := p.Index(t.Context())
		require.NoError(t, err)
		list, err := idx.Resolve([]string{"gcc = 12.2.0"})
		require.NoError(t, err)
		_, err = p.Provision(t.Context(), list)
		require.ErrorIs(t, err, kernelsrc.ErrBadSignature)
		assertNoRoot(t, p.CacheDir)
	})
	t.Run("unsigned", func(t *testing.T) {
		base := t.TempDir()
		writeRepos(t, base, nil, pkgs[:1])
		srv, _ := serve(t, base)
		p := *p
		p.BaseURLs, p.CacheDir = []string{srv.URL}, t.TempDir()
		idx, err := p.Index(t.Context())
		require.NoError(t, err)
		_, err = idx.Resolve([]string{"gcc = 11.3.0"})
		require.ErrorIs(t, err, photontoolchain.ErrUnresolvable, "libgcc is not there")
		list := toolchain.List{{Name: "gcc", Version: "11.3.0-1.ph5", Arch: "x86_64", SHA256: idx.Packages()[0].SHA256, Size: idx.Packages()[0].Size, URL: idx.Packages()[0].URL}}
		_, err = p.Provision(t.Context(), list)
		require.ErrorIs(t, err, kernelsrc.ErrBadSignature)
		assert.Contains(t, err.Error(), "not signed")
		assertNoRoot(t, p.CacheDir)
	})
}

// assertNoRoot checks that a failed provisioning left no root.
func assertNoRoot(t *testing.T, cache string) {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(cache, "roots", "*", "*"))
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			t.Errorf("a failed provisioning left %s", d)
		}
	}
}

func TestGCCVersion(t *testing.T) {
	for ident, want := range map[string]string{
		"gcc (GCC) 12.2.0":                         "12.2.0",
		"gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0": "12.2.0",
		"gcc (GCC) 10.2.0":                         "10.2.0",
		"clang version 16.0.6":                     "",
		"":                                         "",
	} {
		got, err := photontoolchain.GCCVersion(ident)
		if want == "" {
			assert.ErrorIs(t, err, photontoolchain.ErrUnknownCompiler, ident)
			continue
		}
		require.NoError(t, err, ident)
		assert.Equal(t, want, got, ident)
	}
}

func TestParseRelation(t *testing.T) {
	for in, want := range map[string]string{
		"gcc":                    "gcc",
		"gcc = 12.2.0":           "gcc = 12.2.0",
		"glibc >= 1:2.36-3.ph5":  "glibc >= 1:2.36-3.ph5",
		"libgcc = 12.2.0-2.ph5 ": "libgcc = 12.2.0-2.ph5",
		"a < 0:1":                "a < 1",
	} {
		r, err := photontoolchain.ParseRelation(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, r.String(), in)
	}
	for _, bad := range []string{"", "a =", "a == 1", "a = -1", "a b c d"} {
		_, err := photontoolchain.ParseRelation(bad)
		assert.Error(t, err, bad)
	}
}
