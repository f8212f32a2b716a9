// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"archive/tar"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// prepFuzzTree lays out what a %prep runs against: SOURCES with a small
// tarball, a patch and a config, BUILD with links that lead out (as a
// hostile tarball could leave), and a victim directory outside both.
func prepFuzzTree(t *testing.T, tarball []byte) (parent, sources, build string) {
	t.Helper()
	parent = t.TempDir()
	sources = filepath.Join(parent, "SOURCES")
	build = filepath.Join(parent, "BUILD")
	for _, d := range []string{sources, filepath.Join(build, "linux-1.0", "sub"), filepath.Join(parent, "outside")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"SOURCES/linux-1.0.tar":    string(tarball),
		"SOURCES/a.patch":          "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
		"SOURCES/config":           "CONFIG_A=y\n",
		"SOURCES/ApplyPatch.inc":   "ApplyPatch() {\n grep -E '^Patch[0-9]+:'\n}\n",
		"BUILD/linux-1.0/Makefile": "all:\n",
		"outside/victim":           "keep\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(parent, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"BUILD/linux-1.0/out":     "../../outside",
		"BUILD/linux-1.0/victim":  "../../outside/victim",
		"BUILD/linux-1.0/sub/up":  "..",
		"BUILD/linux-1.0/chain":   "sub/up/../../outside/victim",
		"BUILD/linux-1.0/dangler": "../../outside/new",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(parent, name)); err != nil {
			t.Fatal(err)
		}
	}
	return parent, sources, build
}

// outsideState lists what is outside SOURCES and BUILD, with the victim's
// content: a %prep may change neither.
func outsideState(t *testing.T, parent string) string {
	t.Helper()
	var names []string
	_ = filepath.Walk(parent, func(p string, fi os.FileInfo, err error) error {
		rel, _ := filepath.Rel(parent, p)
		if err != nil || rel == "." {
			return nil
		}
		if rel == "SOURCES" || rel == "BUILD" {
			return filepath.SkipDir
		}
		names = append(names, rel+" "+fi.Mode().String())
		return nil
	})
	victim, _ := os.ReadFile(filepath.Join(parent, "outside", "victim"))
	slices.Sort(names)
	return strings.Join(names, "\n") + "\n" + string(victim)
}

func prepFuzzTarball(f *testing.F) []byte {
	var b strings.Builder
	tw := tar.NewWriter(&b)
	for _, e := range []struct{ name, body string }{{"linux-1.0/", ""}, {"linux-1.0/x", "a\n"}, {"linux-1.0/Makefile", "all:\n"}} {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			f.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			f.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		f.Fatal(err)
	}
	return []byte(b.String())
}

// FuzzPrep runs the %prep interpreter on arbitrary command lines. It must
// not panic, must fail only with a *SpecError or *PatchError (anything
// else is an internal error), and must change nothing outside SOURCES and
// BUILD, whatever links the tree holds, and must finish.
func FuzzPrep(f *testing.F) {
	for _, seed := range []string{
		"%setup -q -n linux-1.0\nsed -i 's/a/b/' x\n",
		"%setup -q -D -T -n linux-1.0\ncp -r sub out\nmkdir -p out/evil\n",
		"cd linux-1.0\nsed -e 's/a/b/' chain > copy\n",
		"cd linux-1.0\ncp victim here\ncp -a sub/up/.. elsewhere\n",
		"pushd linux-1.0\nmake -j8 mrproper\npopd\npopd\n",
		"%include %{SOURCE1}\nApplyPatch 0 9\n",
		"%include ../SOURCES/ApplyPatch.inc\nApplyPatch 0 9\n",
		"if [ 1 ]; then\n%patch0 -p1\nelse\nfi\n",
		"%autopatch -p1 -m0 -M9\npatch -p1 < ../SOURCES/a.patch\n",
		"cd linux-1.0\nsed -i '/all/d' Makefile dangler\n",
		"%setup -q -c -n sub\n%setup -a 0 -b 0 -n linux-1.0\n",
	} {
		f.Add(seed)
	}
	tarball := prepFuzzTarball(f)
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > 4096 {
			return
		}
		parent, sources, build := prepFuzzTree(t, tarball)
		before := outsideState(t, parent)
		var lines []SpecLine
		for i, text := range strings.Split(body, "\n") {
			lines = append(lines, SpecLine{Line: i + 1, Text: text})
		}
		spec := &Spec{
			File: "f.spec", Name: "linux", Version: "1.0", Prep: lines,
			Sources:    map[int]string{0: "linux-1.0.tar", 1: "ApplyPatch.inc"},
			Patches:    map[int]string{0: "a.patch"},
			RawPatches: map[int]string{0: "a.patch", 3: "missing.patch"},
		}
		r := &prepRunner{ctx: context.Background(), spec: spec, sourceDir: sources, buildDir: build,
			patchCmd: filepath.Join(parent, "no-such-patch-command")}
		done := make(chan error, 1)
		go func() { done <- r.run() }()
		var err error
		select {
		case err = <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%%prep still running after 20 s")
		}
		var se *SpecError
		var pe *PatchError
		if err != nil && !errors.As(err, &se) && !errors.As(err, &pe) {
			t.Fatalf("internal error (neither a SpecError nor a PatchError): %T: %v", err, err)
		}
		if after := outsideState(t, parent); after != before {
			t.Fatalf("%%prep changed what is outside the tree:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

// Found by FuzzPrep: "cp -r" of a directory into itself walked its own
// output for ever. It is refused, as cp refuses it.
func TestPrepCopyIntoItself(t *testing.T) {
	for _, cmd := range []string{"cp -r . sub", "cp -r sub sub/x", "cp -a ../linux-1.0 sub/up/sub", "cp -r sub/up/sub sub"} {
		t.Run(cmd, func(t *testing.T) {
			parent, sources, build := prepFuzzTree(t, nil)
			spec := &Spec{File: "f.spec", Prep: []SpecLine{{Line: 1, Text: "cd linux-1.0"}, {Line: 2, Text: cmd}}}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r := &prepRunner{ctx: ctx, spec: spec, sourceDir: sources, buildDir: build, patchCmd: filepath.Join(parent, "none")}
			err := r.run()
			var se *SpecError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), "into itself") {
				t.Fatalf("got %v, want a SpecError saying the copy goes into itself", err)
			}
		})
	}
}
