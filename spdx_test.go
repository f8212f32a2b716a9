// SPDX-License-Identifier: Apache-2.0

package klpkit_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// spdxHashFiles are the sources outside .go and .h/.c that carry a
// "# SPDX-License-Identifier:" line.
var spdxHashFiles = map[string]bool{
	"Makefile": true, ".ci/gotest": true, ".ci/importer-check": true, ".ci/run": true,
	"scripts/bench": true, "examples/kpatch/kpatch.service": true,
}

// spdxWant is the licence a source file must declare: Apache-2.0 for
// klpkit's own code, GPL-2.0 for the C compiled into livepatch modules
// (README, "Licence"). Fixtures under testdata keep their bytes (patches
// apply to them by line), so they are not checked.
func spdxWant(rel string) string {
	switch {
	case strings.HasSuffix(rel, ".go"), spdxHashFiles[rel]:
		return "Apache-2.0"
	case strings.HasSuffix(rel, ".h"), strings.HasSuffix(rel, ".c"):
		return "GPL-2.0"
	}
	return ""
}

func TestSPDX(t *testing.T) {
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(path)
		if d.IsDir() {
			if rel != "." && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && d.Name() != ".ci") {
				return filepath.SkipDir
			}
			return nil
		}
		want := spdxWant(rel)
		if want == "" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lines := strings.SplitN(string(data), "\n", 4)
		found := ""
		for _, l := range lines[:min(3, len(lines))] {
			if _, id, ok := strings.Cut(l, "SPDX-License-Identifier: "); ok {
				found = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(id), "*/"))
				break
			}
		}
		assert.Equal(t, want, found, "%s: its first lines must say SPDX-License-Identifier: %s", rel, want)
		checked++
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, checked, 400, "the walk found too few sources")
	for _, f := range []string{"LICENSE", "LICENSES/GPL-2.0.txt"} {
		_, err := os.Stat(f)
		assert.NoError(t, err, "the licence texts")
	}
}
