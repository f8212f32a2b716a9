// SPDX-License-Identifier: Apache-2.0

package testcorpus

import "testing"

// KpatchIntegrationDir returns ../shared/testdata/kpatch-integration-6.2
// beside the module root (kpatch's integration patches and check scripts
// for Linux 6.2), and whether it holds them.
func KpatchIntegrationDir() (string, bool) {
	return sharedDir("kpatch-integration-6.2", "README.md", "multiple.test", "common/multiple.template")
}

// KpatchIntegration returns the kpatch integration suite directory, or
// skips t.
func KpatchIntegration(t testing.TB) string {
	t.Helper()
	dir, ok := KpatchIntegrationDir()
	if !ok {
		t.Skipf("needs kpatch's integration suite at ../shared/testdata/kpatch-integration-6.2 beside the module root (looked at %q)", dir)
	}
	return dir
}
