// SPDX-License-Identifier: Apache-2.0

package testcorpus

import (
	"os"
	"path/filepath"
	"testing"
)

func TestKpatchUnitDirOutsideTheModule(t *testing.T) {
	t.Chdir(t.TempDir())
	if dir, ok := KpatchUnitDir(); ok {
		t.Fatalf("found a corpus at %q outside any module", dir)
	}
}

func TestKpatchUnitDirBesideTheModule(t *testing.T) {
	root := t.TempDir()
	mod := filepath.Join(root, "main")
	corpus := filepath.Join(root, "shared", "testdata", "kpatch-unit")
	for _, d := range []string{filepath.Join(mod, "pkg", "sub"), filepath.Join(corpus, "x86_64")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(mod, "go.mod"), filepath.Join(corpus, "expected.jsonl")} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(filepath.Join(mod, "pkg", "sub"))
	dir, ok := KpatchUnitDir()
	if !ok || filepath.Clean(dir) != corpus {
		t.Fatalf("KpatchUnitDir() = %q, %v; want %q, true", dir, ok, corpus)
	}
	if got := KpatchUnit(t); filepath.Clean(got) != corpus {
		t.Fatalf("KpatchUnit = %q", got)
	}
}

func TestKpatchIntegrationDirBesideTheModule(t *testing.T) {
	root := t.TempDir()
	mod := filepath.Join(root, "main")
	suite := filepath.Join(root, "shared", "testdata", "kpatch-integration-6.2")
	for _, d := range []string{mod, filepath.Join(suite, "common")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(mod, "go.mod"), filepath.Join(suite, "README.md"), filepath.Join(suite, "multiple.test")} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(mod)
	if dir, ok := KpatchIntegrationDir(); ok {
		t.Fatalf("found a suite at %q without common/multiple.template", dir)
	}
	if err := os.WriteFile(filepath.Join(suite, "common", "multiple.template"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dir, ok := KpatchIntegrationDir()
	if !ok || filepath.Clean(dir) != suite {
		t.Fatalf("KpatchIntegrationDir() = %q, %v; want %q, true", dir, ok, suite)
	}
	if got := KpatchIntegration(t); filepath.Clean(got) != suite {
		t.Fatalf("KpatchIntegration = %q", got)
	}
}
