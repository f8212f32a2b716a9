// SPDX-License-Identifier: Apache-2.0

// Package testcorpus finds public reference data that tests read from
// ../shared beside the module root (kpatch's unit-test object pairs and its
// integration suite). The
// project builds without it: tests that need it skip with a message, and CI,
// where ../shared is present, fails on any skip.
package testcorpus

import (
	"os"
	"path/filepath"
	"testing"
)

// KpatchUnitDir returns ../shared/testdata/kpatch-unit beside the module
// root, and whether it holds the corpus (expected.jsonl and x86_64/).
func KpatchUnitDir() (string, bool) {
	return sharedDir("kpatch-unit", "expected.jsonl", "x86_64")
}

// sharedDir returns ../shared/testdata/<name> beside the module root, and
// whether it holds every one of want.
func sharedDir(name string, want ...string) (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "testdata", name)
	for _, w := range want {
		if _, err := os.Stat(filepath.Join(c, w)); err != nil {
			return c, false
		}
	}
	return c, true
}

// KpatchUnit returns the kpatch unit corpus directory, or skips t.
func KpatchUnit(t testing.TB) string {
	t.Helper()
	dir, ok := KpatchUnitDir()
	if !ok {
		t.Skipf("needs the kpatch unit corpus at ../shared/testdata/kpatch-unit beside the module root (looked at %q)", dir)
	}
	return dir
}
