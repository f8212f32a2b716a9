// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/build/toolchain"
)

// kpatch's integration suite for Linux 5.10.11 (its test/integration/
// linux-5.10.11: patches and check scripts) is the 5.10 lab's conformance
// suite, as the 6.2 suite in ../shared is the 6.1 lab's. kpatch is GPL, so
// the project never carries it: the lab fetches it from Debian's archive,
// where the kpatch source package's upstream tarball holds it, through
// trixie's signed InRelease and Sources index, and checks it against the
// pinned SHA-256 too (a new upload to trixie must not change the suite
// under the tests' feet). Only the suite's directory and the template its
// multiple.test sources are kept.
const (
	kpatchSource  = "kpatch"
	kpatchTarball = "kpatch_0.9.10.orig.tar.gz"
	kpatchSHA256  = "94a87a24570d3e202c3732726169af07af3754caa6eff73a179f362cead57028"
	// kpatchTop is the tarball's top directory.
	kpatchTop = "kpatch-0.9.10/"
	// KpatchSuite510Name is the suite's directory name in kpatch's tree.
	KpatchSuite510Name = "linux-5.10.11"
	// kpatchSuiteDir is where the lab keeps it, below the lab directory,
	// laid out as kpatch's test/integration: linux-5.10.11/ and
	// common/multiple.template.
	kpatchSuiteDir = "kpatch-0.9.10-integration"
	// maxSuiteFile bounds one kept file (the largest patch is ~5 KB).
	maxSuiteFile = 1 << 20
)

// KpatchSuite510Modules are the lab kernel's modules that the suite
// patches beyond GuestModules (paths under /lib/modules/<release>/kernel):
// module-call-external's nfsd, whose symbols the build reads (a new
// function its patched object calls is only the patch module's if nfsd has
// no global of that name), and the modules nfsd depends on, for the guest:
// the test loads nfsd after the livepatch (the suite has no check of its
// own), which proves that the livepatch core resolves the patched nfsd's
// reference to sunrpc's cache_check when nfsd comes.
var KpatchSuite510Modules = []string{
	"fs/nfsd/nfsd.ko",
	"net/sunrpc/sunrpc.ko",
	"net/sunrpc/auth_gss/auth_rpcgss.ko",
	"fs/nfs_common/grace.ko",
	"fs/nfs_common/nfs_acl.ko",
	"fs/lockd/lockd.ko",
}

// kpatchSuites is where the tarball is looked up: trixie's main archive.
func kpatchSuites() []toolchain.Suite {
	return []toolchain.Suite{{URL: "http://deb.debian.org/debian", Name: "trixie"}}
}

// KpatchSuite510 returns the directory of kpatch's 5.10.11 integration
// suite in a 5.10 lab (…/linux-5.10.11, with ../common/multiple.template
// beside it), or an error wrapping ErrNotPrepared when the lab has none.
func (l *Lab) KpatchSuite510() (string, error) {
	dir := filepath.Join(l.Dir, kpatchSuiteDir, KpatchSuite510Name)
	if _, err := os.Stat(filepath.Join(dir, "multiple.test")); err != nil {
		return "", fmt.Errorf("lab %s has no kpatch 5.10.11 suite (klplab prepare --generation 5.10): %w: %w", l.Dir, err, ErrNotPrepared)
	}
	return dir, nil
}

// KpatchSuite510ModulesDir returns where a 5.10 lab keeps
// KpatchSuite510Modules, laid out as ModulesDir, or an error wrapping
// ErrNotPrepared when it has not got them.
func (l *Lab) KpatchSuite510ModulesDir() (string, error) {
	dir := kpatchModulesDir(filepath.Join(l.Dir, l.KernelRelease))
	for _, m := range KpatchSuite510Modules {
		if _, err := os.Stat(filepath.Join(dir, l.KernelRelease, "kernel", m)); err != nil {
			return "", fmt.Errorf("lab %s: the kpatch suite's modules (klplab prepare --generation 5.10): %w: %w", l.Dir, err, ErrNotPrepared)
		}
	}
	return dir, nil
}

// kpatchModulesDir is KpatchSuite510ModulesDir below a kernel's directory
// (removed with it).
func kpatchModulesDir(kdir string) string { return filepath.Join(kdir, "kpatch-suite-modules") }

// kpatchSuite fetches and unpacks the suite into the lab directory, and
// the modules it patches from the image package, each once.
func (p *preparer) kpatchSuite(ctx context.Context, l *Lab) error {
	if err := p.kpatchSuiteFiles(ctx); err != nil {
		return err
	}
	return p.kpatchSuiteModules(ctx, l)
}

// kpatchSuiteModules unpacks KpatchSuite510Modules from the image package.
func (p *preparer) kpatchSuiteModules(ctx context.Context, l *Lab) error {
	if _, err := l.KpatchSuite510ModulesDir(); err == nil {
		return nil
	}
	deb, err := p.download(ctx, p.k.imagePackage())
	if err != nil {
		return err
	}
	defer os.RemoveAll(filepath.Dir(deb))
	dir := kpatchModulesDir(p.kdir)
	want := map[string]string{}
	for _, m := range KpatchSuite510Modules {
		rel := filepath.Join(p.k.Release, "kernel", m)
		want[filepath.ToSlash(filepath.Join("lib/modules", rel))] = filepath.Join(dir, rel)
	}
	p.log.Info("unpacking the kpatch suite's modules", "from", filepath.Base(deb), "modules", strings.Join(KpatchSuite510Modules, " "))
	if err := extractDeb(ctx, p.run, deb, want); err != nil {
		return err
	}
	p.record("unpacked the kpatch suite's modules")
	return nil
}

// kpatchSuiteFiles fetches and unpacks the suite into the lab directory.
func (p *preparer) kpatchSuiteFiles(ctx context.Context) error {
	final := filepath.Join(p.cfg.Dir, kpatchSuiteDir)
	if _, err := os.Stat(filepath.Join(final, KpatchSuite510Name, "multiple.test")); err == nil {
		return nil
	}
	keys, err := os.ReadFile(toolchain.DebianKeyring)
	if err != nil {
		return fmt.Errorf("archive keys (debian-archive-keyring): %w", err)
	}
	ring, err := toolchain.ReadKeyring(keys)
	if err != nil {
		return fmt.Errorf("archive keys %s: %w", toolchain.DebianKeyring, err)
	}
	d := &toolchain.Debian{Suites: kpatchSuites(), Keyring: ring, IndexCache: filepath.Join(p.cfg.Dir, "toolchain", "index")}
	e, err := d.SourceFile(ctx, kpatchSource, kpatchTarball)
	if err != nil {
		return fmt.Errorf("kpatch's integration suite: %w", err)
	}
	if e.SHA256 != kpatchSHA256 {
		return fmt.Errorf("kpatch's integration suite: %s lists %s with SHA-256 %s, the lab pins %s: check the new tarball's linux-5.10.11 suite and update the pin", e.URL, kpatchTarball, e.SHA256, kpatchSHA256)
	}
	tmp := filepath.Join(p.cfg.Dir, "."+kpatchSuiteDir+".tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	p.log.Info("fetching kpatch's integration suite", "url", e.URL, "MB", fmt.Sprintf("%.1f", float64(e.Size)/1e6))
	tarball := filepath.Join(tmp, kpatchTarball)
	if err := toolchain.Download(ctx, nil, e, tarball); err != nil {
		return fmt.Errorf("%s: %w", kpatchTarball, err)
	}
	tree := filepath.Join(tmp, "tree")
	n, err := unpackKpatchSuite(tarball, tree)
	if err != nil {
		return fmt.Errorf("%s: %w", kpatchTarball, err)
	}
	if _, err := os.Stat(filepath.Join(tree, KpatchSuite510Name, "multiple.test")); err != nil {
		return fmt.Errorf("%s holds no test/integration/%s/multiple.test", kpatchTarball, KpatchSuite510Name)
	}
	if _, err := os.Stat(filepath.Join(tree, "common", "multiple.template")); err != nil {
		return fmt.Errorf("%s holds no test/integration/common/multiple.template", kpatchTarball)
	}
	if err := os.RemoveAll(final); err != nil {
		return err
	}
	if err := os.Rename(tree, final); err != nil {
		return err
	}
	p.record("unpacked kpatch's integration suite")
	p.log.Info("kpatch's integration suite ready", "dir", filepath.Join(final, KpatchSuite510Name), "files", n)
	return nil
}

// unpackKpatchSuite writes the regular files of the tarball's
// test/integration/linux-5.10.11/ and test/integration/common/
// multiple.template below dir (as linux-5.10.11/NAME and
// common/multiple.template) and returns how many it wrote. Anything else
// in the suite's directory (a subdirectory, a link) is refused: the
// suite is flat.
func unpackKpatchSuite(tarball, dir string) (int, error) {
	f, err := os.Open(tarball)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return 0, err
	}
	tr := tar.NewReader(gz)
	const integration = kpatchTop + "test/integration/"
	n := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		name := path.Clean(h.Name)
		var rel string
		switch {
		case name == integration+"common/multiple.template":
			rel = "common/multiple.template"
		case strings.HasPrefix(name, integration+KpatchSuite510Name+"/"):
			base := strings.TrimPrefix(name, integration+KpatchSuite510Name+"/")
			if strings.Contains(base, "/") || h.Typeflag != tar.TypeReg {
				return n, fmt.Errorf("%s: the suite's directory holds more than regular files", h.Name)
			}
			rel = KpatchSuite510Name + "/" + base
		default:
			continue
		}
		if h.Typeflag != tar.TypeReg || h.Size > maxSuiteFile {
			return n, fmt.Errorf("%s: not a regular file of at most %d bytes", h.Name, maxSuiteFile)
		}
		data, err := io.ReadAll(io.LimitReader(tr, maxSuiteFile))
		if err != nil {
			return n, fmt.Errorf("%s: %w", h.Name, err)
		}
		// kpatch-test runs the checks as programs.
		mode := os.FileMode(0o644)
		if strings.HasSuffix(rel, ".test") {
			mode = 0o755
		}
		out := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return n, err
		}
		if err := os.WriteFile(out, data, mode); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
