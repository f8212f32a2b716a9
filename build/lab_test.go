// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"crypto/x509"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/kmod/modsign"
)

// TestRunLabOutputs builds on the host against the lab kernel (no VM) and
// checks what Run leaves behind: the module's klp sections and modinfo,
// the debug export, the object cache, and the System.map fallback.
// On every lab kernel generation (5.10: built in its toolchain root).
func TestRunLabOutputs(t *testing.T) {
	onEachLab(t, runLabOutputs)
}

func runLabOutputs(t *testing.T, l *lab.Lab) {
	symbolSources := []string{"vmlinux", "System.map"}
	if l.Generation == lab.Bullseye510 {
		// CI time: the System.map fallback reads a file of the same
		// format on every kernel; 6.1's run proves it.
		symbolSources = symbolSources[:1]
	}
	for _, symbols := range symbolSources {
		t.Run(symbols, func(t *testing.T) {
			tree := labTree(t, l)
			if symbols == "System.map" {
				tree.Vmlinux, tree.SystemMap = "", l.SystemMap
			}
			cache, debug, out := t.TempDir(), t.TempDir(), t.TempDir()
			var stages []build.Stage
			opts := build.Options{
				Source: tree, Patches: []string{labPatch(l, "uptime-nonexported-call.patch")}, Toolchain: labToolchain(l),
				Name: "klpkit-lab.ko", OutputDir: out, CacheDir: cache, DebugDir: debug, Description: "lab \"test\"",
				Progress: klpkit.On(func(e build.Event) { stages = append(stages, e.Stage) }),
				Signer:   labSigner(t),
			}
			res, err := build.Run(t.Context(), opts)
			require.NoError(t, err)
			assert.Equal(t, filepath.Join(out, "klpkit-lab.ko"), res.Module)
			signed, err := os.ReadFile(res.Module)
			require.NoError(t, err)
			sig, _, err := modsign.Verify(signed, []*x509.Certificate{opts.Signer.(*modsign.Signer).Cert})
			require.NoError(t, err, "the module carries the signer's signature")
			assert.Equal(t, "sha512", sig.HashName())
			assert.Equal(t, []build.Object{{Path: "fs/proc/uptime.o", Target: "vmlinux", Changed: []string{"uptime_proc_show"}}}, res.Objects)
			assert.Subset(t, stages, []build.Stage{build.StageCheck, build.StagePatch, build.StageCompile, build.StageDiff, build.StageLink, build.StageOutput})

			f, err := elf.Open(res.Module)
			require.NoError(t, err)
			defer f.Close()
			klpRela := f.Section(".klp.rela.vmlinux..text.uptime_proc_show")
			require.NotNil(t, klpRela, "nr_processes is not exported: a klp relocation")
			assert.Equal(t, elf.SHF_ALLOC|elf.SHF_INFO_LINK|elf.SectionFlag(0x00100000), klpRela.Flags)
			syms, err := f.Symbols()
			require.NoError(t, err)
			var klpSyms []string
			for _, s := range syms {
				if s.Section == elf.SectionIndex(0xff20) {
					klpSyms = append(klpSyms, s.Name)
				}
			}
			assert.Contains(t, klpSyms, ".klp.sym.vmlinux.nr_processes,0")
			modinfo, err := f.Section(".modinfo").Data()
			require.NoError(t, err)
			for _, want := range []string{"livepatch=Y", "license=GPL", "description=lab \"test\"", "vermagic=" + l.KernelRelease + " ", "name=klpkit_lab"} {
				assert.Contains(t, string(modinfo), want)
			}

			for _, p := range []string{"orig/fs/proc/uptime.o", "patched/fs/proc/uptime.o", "patch/fs/proc/uptime.o", "patched-src/fs/proc/uptime.c", "module/klpkit-hook.c", "build.log"} {
				assert.FileExists(t, filepath.Join(debug, p))
			}

			// Reproducible: the second run, in a work directory of another
			// name and length and with the tree reached by another path,
			// writes the same module and RPM bytes.
			opts.WorkDir = filepath.Join(openTempDir(t), "a-longer-work-directory") // where the build user may write
			linked := filepath.Join(t.TempDir(), "tree-by-another-path")
			require.NoError(t, os.Symlink(tree.Dir, linked))
			tree.Dir = linked
			again, err := build.Run(t.Context(), opts)
			require.NoError(t, err)
			assert.True(t, again.Objects[0].Cached, "second run takes the original object from the cache")
			requireReproduced(t, l, signed, again.Module, l.SourceDir, linked, opts.WorkDir, "/klpkit-build-")
			orig, err := os.ReadFile(filepath.Join(l.SourceDir, "fs/proc/uptime.c"))
			require.NoError(t, err)
			assert.NotContains(t, string(orig), "klpkit", "the lab tree is never patched")
		})
	}
}

func TestKernelReleaseLab(t *testing.T) {
	onEachLab(t, func(t *testing.T, l *lab.Lab) {
		rel, err := build.KernelRelease(l.Vmlinux)
		require.NoError(t, err)
		assert.Equal(t, l.KernelRelease, rel)
	})
}

// labSigner is a file-based module signer with a fresh RSA key and
// certificate, made by openssl as the kernel's certs/Makefile makes one.
func labSigner(t *testing.T) *modsign.Signer {
	t.Helper()
	dir := t.TempDir()
	key, cert := filepath.Join(dir, "signing_key.pem"), filepath.Join(dir, "signing_key.x509")
	out, err := exec.CommandContext(t.Context(), "openssl", "req", "-new", "-nodes", "-utf8", "-batch", "-x509", "-days", "2",
		"-subj", "/CN=klpkit build lab", "-newkey", "rsa:2048", "-keyout", key, "-outform", "DER", "-out", cert).CombinedOutput()
	require.NoError(t, err, "openssl (package openssl): %s", out)
	s, err := modsign.LoadSigner(key, cert, 0)
	require.NoError(t, err)
	return s
}

// openTempDir is a temporary directory every user may pass through, as a
// work directory must be for the build user when the tests run as root
// (t.TempDir's parent is private).
func openTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "klpkit-test-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	return dir
}
