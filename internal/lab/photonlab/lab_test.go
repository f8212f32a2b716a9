// SPDX-License-Identifier: Apache-2.0

//go:build linux

package photonlab_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/labtest"
	"github.com/klpkit/klpkit/internal/lab/photonlab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// labFlavors are the flavors the lab builds by default (photonlab.Config).
var labFlavors = []photon.Flavor{photon.Generic, photon.AWS}

// hostnames are the default host names the flavors' configs set.
var hostnames = map[photon.Flavor]string{photon.Generic: "(none)", photon.AWS: "photon-aws"}

// requireFlavor returns the lab seen as flavor f.
func requireFlavor(t *testing.T, l *lab.Lab, f photon.Flavor) *photonlab.Lab {
	t.Helper()
	fl, err := labtest.RequirePhoton(t, l).Flavor(f)
	require.NoError(t, err)
	return fl
}

// TestLabKernelBootsInVM boots each Photon lab kernel and checks that it is
// the Photon-versioned, livepatch-capable kernel built from the source
// RPM's patches and its flavor's own config, and that it checks module
// signatures (without enforcing them) with the lab certificate built in.
func TestLabKernelBootsInVM(t *testing.T) {
	for _, f := range labFlavors {
		t.Run(string(f), func(t *testing.T) {
			vmtest.Run(t, vmtest.Config{
				Kernel: func(t *testing.T, l *lab.Lab) string {
					fl := requireFlavor(t, l, f)
					k, err := fl.Kernel()
					require.NoError(t, err)
					require.Equal(t, f, k.Flavor)
					require.NoError(t, k.Livepatchable(), "the lab kernel must be a livepatchable Photon kernel")
					return fl.Vmlinuz
				},
				Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
					fl := requireFlavor(t, l, f)
					files := []vmtest.File{{Guest: "/want-release", Data: []byte(fl.KernelRelease)}}
					if fl.SigningCert != "" {
						files = append(files, vmtest.File{Guest: "/want-lab-cert", Data: []byte(photonlab.SigningCommonName)})
					}
					return files
				},
			}, func(t *testing.T) {
				want, err := os.ReadFile("/want-release")
				require.NoError(t, err)
				var u unix.Utsname
				require.NoError(t, unix.Uname(&u))
				require.Equal(t, string(want), unix.ByteSliceToString(u.Release[:]), "uname -r")
				require.Equal(t, hostnames[f], unix.ByteSliceToString(u.Nodename[:]), "uname -n: CONFIG_DEFAULT_HOSTNAME of the flavor's config")
				t.Logf("uname -r: %s, uname -n: %s", want, hostnames[f])
				require.DirExists(t, "/sys/kernel/livepatch", "CONFIG_LIVEPATCH")
				require.FileExists(t, "/proc/modules", "CONFIG_MODULES")
				ftrace, err := os.ReadFile("/proc/sys/kernel/ftrace_enabled")
				require.NoError(t, err)
				require.Equal(t, "1", strings.TrimSpace(string(ftrace)))
				dmesg, err := vmtest.Dmesg()
				require.NoError(t, err)
				require.Contains(t, dmesg, "photonlab: livepatch core ready", "Patch1 of the source RPM is in the running kernel")
				if cn, err := os.ReadFile("/want-lab-cert"); err == nil {
					// CONFIG_MODULE_SIG, not enforced: unsigned modules load, tainted
					require.Regexp(t, `Loaded X\.509 cert '[^']*`+string(cn), dmesg, "the lab certificate is in the built-in keyring")
					requireInFile(t, "/sys/module/module/parameters/sig_enforce", "N")
					t.Logf("the lab certificate (%s) is built in; signatures checked, not enforced", cn)
				}
			})
		})
	}
}

// TestRepoPreparesTheBuiltTree fetches each lab kernel's packages from the
// repository over HTTP, as auto_livepatch does from Photon's, prepares them
// with package kernelsrc (%prep, config, vmlinux, gcc check) and checks the
// result is exactly what the VM's kernel was built from.
func TestRepoPreparesTheBuiltTree(t *testing.T) {
	l := vmtest.RequireLab(t)
	pl := labtest.RequirePhoton(t, l)
	srv := httptest.NewServer(http.FileServer(http.Dir(pl.RepoDir)))
	t.Cleanup(srv.Close)
	for _, f := range labFlavors {
		t.Run(string(f), func(t *testing.T) {
			fl := requireFlavor(t, l, f)
			k, err := fl.Kernel()
			require.NoError(t, err)
			repo := &kernelsrc.Repo{BaseURLs: []string{srv.URL}, CacheDir: t.TempDir()}
			src, err := repo.Prepare(t.Context(), k, &kernelsrc.PrepareOptions{Dir: t.TempDir(), CC: "gcc-12"})
			require.NoError(t, err)
			t.Logf("prepared %s in %s (compiler %q)", k, src.Tree, src.Compiler)

			skip := []string{".config"}
			if fl.SigningCert != "" {
				// generic's %prep adds the lab certificate its config names
				cert := filepath.Join("certs", photonlab.TrustedCertSource)
				requireSameFile(t, fl.SigningCert, filepath.Join(src.Tree, cert))
				skip = append(skip, cert)
			}
			requireSameTree(t, fl.Tree, src.Tree, skip...)
			requireSameFile(t, fl.Config, src.Config)
			requireSameFile(t, fl.Vmlinux, src.Vmlinux)
		})
	}
}

func requireSameFile(t *testing.T, want, got string) {
	t.Helper()
	a, err := os.ReadFile(want)
	require.NoError(t, err)
	b, err := os.ReadFile(got)
	require.NoError(t, err)
	require.True(t, bytes.Equal(a, b), "%s and %s differ", want, got)
}

// requireSameTree compares two trees entry by entry (type, mode, content,
// link target), ignoring the names (relative to the roots) in skip.
func requireSameTree(t *testing.T, want, got string, skip ...string) {
	t.Helper()
	ignored := map[string]bool{}
	for _, s := range skip {
		ignored[s] = true
	}
	list := func(root string) map[string]os.FileInfo {
		out := map[string]os.FileInfo{}
		require.NoError(t, filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if ignored[rel] {
				return nil
			}
			out[rel] = fi
			return nil
		}))
		return out
	}
	a, b := list(want), list(got)
	for rel := range a {
		if _, ok := b[rel]; !ok {
			t.Errorf("%s: only in %s", rel, want)
		}
	}
	for rel := range b {
		if _, ok := a[rel]; !ok {
			t.Errorf("%s: only in %s", rel, got)
		}
	}
	for rel, fa := range a {
		fb, ok := b[rel]
		if !ok {
			continue
		}
		if fa.Mode() != fb.Mode() {
			t.Errorf("%s: mode %v vs %v", rel, fa.Mode(), fb.Mode())
			continue
		}
		switch {
		case fa.Mode()&os.ModeSymlink != 0:
			la, _ := os.Readlink(filepath.Join(want, rel))
			lb, _ := os.Readlink(filepath.Join(got, rel))
			if la != lb {
				t.Errorf("%s: link %q vs %q", rel, la, lb)
			}
		case fa.Mode().IsRegular():
			if fa.Size() != fb.Size() {
				t.Errorf("%s: size %d vs %d", rel, fa.Size(), fb.Size())
				continue
			}
			da, _ := os.ReadFile(filepath.Join(want, rel))
			db, _ := os.ReadFile(filepath.Join(got, rel))
			if !bytes.Equal(da, db) {
				t.Errorf("%s: contents differ", rel)
			}
		}
	}
	require.False(t, t.Failed(), "the prepared tree differs from the lab's")
	t.Logf("trees identical: %d entries", len(a))
}
