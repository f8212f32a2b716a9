// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"testing"
)

// FuzzValidateNewTypes: validating any parsed patch, with only its hunks
// as context, never panics; seeds add and change type definitions.
func FuzzValidateNewTypes(f *testing.F) {
	addPatchSeeds(f)
	f.Add([]byte("--- a/k.c\n+++ b/k.c\n@@ -1,2 +1,6 @@\n int a;\n+\n+struct s {\n+\tint x;\n+};\n \n"))
	f.Add([]byte("--- a/k.c\n+++ b/k.c\n@@ -1,3 +1,3 @@\n-struct s {\n+struct t {\n \tint x;\n };\n"))
	f.Add([]byte("--- a/k.h\n+++ b/k.h\n@@ -1 +1,3 @@\n+struct s;\n+enum e { A,\n int a;\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := Parse("fuzz.patch", data, nil)
		if err != nil {
			return
		}
		_, _ = Validate(context.Background(), ps, nil) // must not panic
	})
}
