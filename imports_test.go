// SPDX-License-Identifier: Apache-2.0

package klpkit_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const modulePath = "github.com/klpkit/klpkit"

// forbiddenImports are the edges ARCHITECTURE.md says must never exist:
// a package whose path starts with the first string never imports one
// whose path starts with the second (non-test files; paths relative to
// the module).
var forbiddenImports = [][2]string{
	// The model and the lowest layers know nothing of what uses them.
	{"livepatch", "build"}, {"livepatch", "kmod"}, {"livepatch", "photon"}, {"livepatch", "rpmpkg"},
	{"kmod", "build"}, {"kmod", "photon"}, {"kmod", "rpmpkg"}, {"kmod", "livepatch"},
	{"photon", "build"}, {"photon", "kmod"},
	{"rpmpkg", "build"}, {"rpmpkg", "photon"},
	// build works on a kernel tree; where it came from is photonsource's
	// business, and loading is kmod's.
	{"build/internal/klp", "build/photonsource"}, {"build/objdiff", "build/photonsource"},
	{"build/toolchain", "photon"},
}

// labDir is the test lab's folder in internal/: its Debian and Photon
// kernels, vmtest and the guest helpers. Only the lab, the examples and the
// commands may import it, and it is the only part of internal/ that may
// import klpkit's public packages.
const labDir = "internal/lab"

func under(pkg, prefix string) bool { return pkg == prefix || strings.HasPrefix(pkg, prefix+"/") }

// TestImportRules pins ARCHITECTURE.md's import rules on every package of
// the module (its non-test files).
func TestImportRules(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), "go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())

	pkgs := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], modulePath), "/")
		pkgs++
		isLab := under(pkg, labDir) || under(pkg, "examples") || strings.Contains(pkg, "/cmd/")
		for _, imp := range fields[1:] {
			if imp == "testing" {
				name := pkg[strings.LastIndex(pkg, "/")+1:]
				if !strings.Contains(name, "test") {
					t.Errorf("%s imports testing outside its tests: test helpers go in a package whose name says so", pkg)
				}
				continue
			}
			rel, ok := strings.CutPrefix(imp, modulePath+"/")
			if !ok {
				continue
			}
			for _, f := range forbiddenImports {
				if under(pkg, f[0]) && under(rel, f[1]) {
					t.Errorf("%s imports %s: %s must never import %s (ARCHITECTURE.md)", pkg, rel, f[0], f[1])
				}
			}
			if under(rel, labDir) && !isLab {
				t.Errorf("%s imports the test lab's %s", pkg, rel)
			}
			if under(rel, "examples") && !under(pkg, "examples") {
				t.Errorf("%s imports the example %s", pkg, rel)
			}
			if under(pkg, "internal") && !under(pkg, labDir) && !strings.HasPrefix(rel, "internal/") {
				t.Errorf("the internal helper %s imports the public package %s: helpers sit below every public package (only %s may)", pkg, rel, labDir)
			}
		}
	}
	require.NoError(t, sc.Err())
	require.Greater(t, pkgs, 30, "go list listed the module's packages")
}
