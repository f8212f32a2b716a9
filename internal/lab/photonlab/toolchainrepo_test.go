// SPDX-License-Identifier: Apache-2.0

package photonlab_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab/photonlab"
	"github.com/klpkit/klpkit/rpmpkg"
)

// fakeRoot writes a toolchain root: files (path -> body) and symlinks
// (path -> target).
func fakeRoot(t *testing.T, files, links map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for rel, body := range files {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o755))
	}
	for rel, target := range links {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.Symlink(target, p))
	}
	return root
}

// A bullseye-like root (glibc 2.31's versioned library names, gcc-10
// without a gcc link, Debian's kernel headers under usr/src) and a
// bookworm-like one, as Photon 4.0's and 5.0's packages.
func TestToolchainRPMs(t *testing.T) {
	files := map[string]string{
		"usr/bin/x86_64-linux-gnu-as":                "as",
		"usr/lib/gcc/x86_64-linux-gnu/VER/cc1":       "cc1",
		"usr/lib/x86_64-linux-gnu/libc.so":           "GROUP ( libc.so.6 )",
		"usr/include/stdio.h":                        "stdio",
		"usr/include/linux/types.h":                  "types",
		"usr/bin/make":                               "make",
		"usr/lib/x86_64-linux-gnu/libgmp.so.10":      "gmp",
		"usr/lib/x86_64-linux-gnu/libmpfr.so.6":      "mpfr",
		"usr/lib/x86_64-linux-gnu/libmpc.so.3":       "mpc",
		"lib/x86_64-linux-gnu/libgcc_s.so.1":         "libgcc",
		"bin/bash":                                   "bash",
		"usr/share/doc/bash/copyright":               "skipped",
		"usr/src/linux-headers-5.10.0-46/Makefile":   "skipped",
		"klpkit-toolchain.list":                      "skipped",
		"usr/lib/python3.9/os.py":                    "python",
		"usr/bin/x86_64-linux-gnu-gcc-VER":           "gcc",
		"lib/x86_64-linux-gnu/libc-2.31.so":          "libc",
		"lib/x86_64-linux-gnu/ld-2.31.so":            "ld",
		"usr/lib/x86_64-linux-gnu/libc_nonshared.a":  "nonshared",
		"usr/lib/x86_64-linux-gnu/libpthread.a":      "pthread",
		"usr/include/x86_64-linux-gnu/asm/unistd.h":  "unistd",
		"usr/lib/x86_64-linux-gnu/libbfd-2.35.2.so":  "bfd",
		"usr/lib/x86_64-linux-gnu/libisl.so.23":      "isl",
		"usr/lib/x86_64-linux-gnu/libstdc++.so.6":    "stdc++",
		"usr/include/openssl/ssl.h":                  "ssl",
		"usr/lib/x86_64-linux-gnu/libcrypto.so.1.1":  "crypto",
		"usr/lib/x86_64-linux-gnu/libelf-0.183.so":   "elf",
		"usr/lib/x86_64-linux-gnu/libnsl.so.1":       "nsl",
		"usr/lib/x86_64-linux-gnu/libc_malloc_x.txt": "rest",
	}
	links := map[string]string{
		"usr/bin/as":                      "x86_64-linux-gnu-as",
		"usr/bin/gcc-VER":                 "x86_64-linux-gnu-gcc-VER",
		"lib/x86_64-linux-gnu/libc.so.6":  "libc-2.31.so",
		"lib64/ld-linux-x86-64.so.2":      "/lib/x86_64-linux-gnu/ld-2.31.so",
		"usr/lib/x86_64-linux-gnu/libm.a": "/usr/lib/x86_64-linux-gnu/libm-2.31.a",
	}
	type pkg struct {
		version  string
		requires []string
		files    []string
	}
	for _, tc := range []struct {
		dist, gcc, major string
		want             map[string]pkg
	}{
		{".ph4", "10.2.1", "10", map[string]pkg{
			"make":              {"4.3", []string{"glibc"}, []string{"/usr/bin/make"}},
			"linux-api-headers": {"5.10.4", nil, []string{"/usr/include/linux/types.h", "/usr/include/x86_64-linux-gnu/asm/unistd.h"}},
			"gcc": {"10.2.1", []string{"binutils", "glibc-devel", "libgcc = 10.2.1-2.ph4", "gmp", "mpfr", "libmpc"}, []string{
				"/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/gcc-10", "/usr/bin/x86_64-linux-gnu-gcc-10",
				"/usr/lib/gcc/x86_64-linux-gnu/10/cc1", "/usr/lib/x86_64-linux-gnu/libisl.so.23"}},
			"libgcc": {"10.2.1", []string{"glibc"}, []string{"/lib/x86_64-linux-gnu/libgcc_s.so.1", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"}},
			"gmp":    {"6.2.0", []string{"glibc"}, []string{"/usr/lib/x86_64-linux-gnu/libgmp.so.10"}},
			"mpfr":   {"4.1.0", []string{"gmp"}, []string{"/usr/lib/x86_64-linux-gnu/libmpfr.so.6"}},
			"libmpc": {"1.2.0", []string{"mpfr"}, []string{"/usr/lib/x86_64-linux-gnu/libmpc.so.3"}},
			"binutils": {"2.35", []string{"glibc"}, []string{"/usr/bin/as", "/usr/bin/x86_64-linux-gnu-as",
				"/usr/lib/x86_64-linux-gnu/libbfd-2.35.2.so"}},
			"glibc-devel": {"2.32", []string{"glibc = 2.32-2.ph4", "linux-api-headers"}, []string{"/usr/include/stdio.h",
				"/usr/lib/x86_64-linux-gnu/libc.so", "/usr/lib/x86_64-linux-gnu/libc_nonshared.a",
				"/usr/lib/x86_64-linux-gnu/libm.a", "/usr/lib/x86_64-linux-gnu/libpthread.a"}},
			"glibc": {"2.32", nil, []string{"/lib/x86_64-linux-gnu/ld-2.31.so", "/lib/x86_64-linux-gnu/libc-2.31.so",
				"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2", "/usr/lib/x86_64-linux-gnu/libnsl.so.1"}},
			"lab-build-tools": {"1.0", []string{"glibc"}, []string{"/bin/bash", "/usr/include/openssl/ssl.h",
				"/usr/lib/python3.9/os.py", "/usr/lib/x86_64-linux-gnu/libc_malloc_x.txt",
				"/usr/lib/x86_64-linux-gnu/libcrypto.so.1.1", "/usr/lib/x86_64-linux-gnu/libelf-0.183.so"}},
		}},
		{".ph5", "12.2.0", "12", map[string]pkg{
			"linux-api-headers": {"6.1.10", nil, []string{"/usr/include/linux/types.h", "/usr/include/x86_64-linux-gnu/asm/unistd.h"}},
			"gcc": {"12.2.0", []string{"binutils", "glibc-devel", "libgcc = 12.2.0-2.ph5", "gmp", "mpfr", "libmpc"}, []string{
				"/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/gcc-12", "/usr/bin/x86_64-linux-gnu-gcc-12",
				"/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "/usr/lib/x86_64-linux-gnu/libisl.so.23"}},
			"libmpc":      {"1.3.1", []string{"mpfr"}, []string{"/usr/lib/x86_64-linux-gnu/libmpc.so.3"}},
			"binutils":    {"2.40", []string{"glibc"}, nil},
			"glibc-devel": {"2.36", []string{"glibc = 2.36-2.ph5", "linux-api-headers"}, nil},
		}},
	} {
		t.Run(tc.dist, func(t *testing.T) {
			f, l := map[string]string{}, map[string]string{}
			for rel, body := range files {
				f[strings.ReplaceAll(rel, "VER", tc.major)] = body
			}
			for rel, target := range links {
				l[strings.ReplaceAll(rel, "VER", tc.major)] = strings.ReplaceAll(target, "VER", tc.major)
			}
			root := fakeRoot(t, f, l)
			when := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			rpms, err := photonlab.ToolchainRPMs(t.Context(), root, t.TempDir(),
				photonlab.ToolchainOptions{GCCVersion: tc.gcc, Dist: tc.dist, BuildTime: when, Compressor: "gzip"})
			require.NoError(t, err)
			require.Len(t, rpms, 11)
			got := map[string]*rpmpkg.Info{}
			for _, file := range rpms {
				fh, err := os.Open(file)
				require.NoError(t, err)
				info, err := rpmpkg.Inspect(t.Context(), fh, nil)
				fh.Close()
				require.NoError(t, err)
				require.Equal(t, info.Name+"-"+info.Version+"-"+info.Release+".x86_64.rpm", filepath.Base(file))
				require.Regexp(t, `^[0-9]+\`+tc.dist+`$`, info.Release)
				got[info.Name] = info
			}
			for name, w := range tc.want {
				info := got[name]
				require.NotNil(t, info, name)
				require.Equal(t, w.version, info.Version, name)
				var reqs []string
				for _, r := range info.Requires {
					if !strings.HasPrefix(r, "rpmlib(") && !strings.HasPrefix(r, "/") {
						reqs = append(reqs, r)
					}
				}
				require.ElementsMatch(t, w.requires, reqs, name)
				if w.files == nil {
					continue
				}
				var names []string
				for _, fi := range info.Files {
					names = append(names, fi.Name)
					if fi.Name == "/lib64/ld-linux-x86-64.so.2" {
						require.Equal(t, "../lib/x86_64-linux-gnu/ld-2.31.so", fi.LinkTarget, "absolute links become relative")
					}
				}
				require.ElementsMatch(t, w.files, names, name)
			}
			require.Contains(t, got["lab-build-tools"].Provides, "perl", "the tools' names resolve to lab-build-tools")
		})
	}

	_, err := photonlab.ToolchainRPMs(t.Context(), fakeRoot(t, map[string]string{"usr/bin/make": "make"}, nil), t.TempDir(),
		photonlab.ToolchainOptions{GCCVersion: "7.3.0", Dist: ".ph3", BuildTime: time.Now()})
	require.ErrorIs(t, err, photonlab.ErrUnknownDist)
	require.ErrorContains(t, err, `".ph3"`)
}
