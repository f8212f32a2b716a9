// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzConfigIncludes feeds arbitrary %include files and configs to
// ApplyConfigIncludes. It must not panic and must fail only with a
// *SpecError (anything else is an internal error); config changes only when
// the file is made of sed edits of .config, and an edit file applied twice
// is deterministic.
func FuzzConfigIncludes(f *testing.F) {
	for _, seed := range []struct{ inc, config, section string }{
		{"sed -i 's/X=m/X=y/' .config\n", "X=m\nY=m\n", "%prep"},
		{"# c\nsed -i 's/A/B/g' .config\n\\\nsed -i 's/B/C/' .config\n", "AAA\n", "%build"},
		{"make olddefconfig\ndiff .config .config.old\necho ok\n", "X=y\n", "%prep"},
		{"ApplyPatch() {\n grep -E '^Patch[0-9]+:'\n}\n", "", "%prep"},
		{"sed -i 's/a\"b/c/' .config\nrm -rf /\n", "a\"b\n", "%prep"},
		{"sed -i 's|/|x|' .config\n", "/\n", "%build"},
	} {
		f.Add(seed.inc, seed.config, seed.section)
	}
	f.Fuzz(func(t *testing.T, inc, config, section string) {
		if section != "%prep" {
			section = "%build"
		}
		sources := t.TempDir()
		file := filepath.Join(sources, "x.inc")
		if err := os.WriteFile(file, []byte(inc), 0o644); err != nil {
			t.Fatal(err)
		}
		spec := &Spec{File: "f.spec", ConfigIncludes: []SpecInclude{{Line: 3, Section: section, File: file}}}
		out, err := ApplyConfigIncludes(spec, sources, []byte(config), func(PrepareStep, string) {})
		if err != nil {
			var se *SpecError
			if !errors.As(err, &se) {
				t.Fatalf("internal error (not a SpecError): %T: %v", err, err)
			}
			return
		}
		if _, edits := configEdits(inc); !edits && string(out) != config {
			t.Fatalf("config changed by a file that is not only sed edits of .config:\n%q\n->\n%q", config, out)
		}
		again, err := ApplyConfigIncludes(spec, sources, []byte(config), func(PrepareStep, string) {})
		if err != nil || string(again) != string(out) {
			t.Fatalf("second run differs: %v", err)
		}
	})
}
