// SPDX-License-Identifier: Apache-2.0

package build

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCRCs(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     exportCRCs
		err      string
	}{
		{"empty", "", exportCRCs{}, ""},
		{"symver", "#SYMVER get_device 0x62c2ce88\n#SYMVER put_device 0x00000001\n", exportCRCs{"get_device": 0x62c2ce88, "put_device": 1}, ""},
		{"linker script, genksyms before 5.19", "__crc_get_device = 0x62c2ce88;\n\n__crc_x = 0xffffffff;\n", exportCRCs{"get_device": 0x62c2ce88, "x": 0xffffffff}, ""},
		{"unknown line", "#SYMVER a 0x1\nwarning: something\n", nil, "line 2: unknown"},
		{"missing crc", "#SYMVER a\n", nil, "line 1"},
		{"bad hex", "#SYMVER a 0xzz\n", nil, "line 1: bad"},
		{"too wide", "#SYMVER a 0x123456789\n", nil, "line 1: bad"},
		{"no semicolon", "__crc_a = 0x1\n", nil, "line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCRCs([]byte(tc.in))
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func FuzzParseCRCs(f *testing.F) {
	f.Add([]byte("#SYMVER get_device 0x62c2ce88\n"))
	f.Add([]byte("__crc_get_device = 0x62c2ce88;\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		crcs, err := parseCRCs(data)
		if err != nil {
			return
		}
		again, err := parseCRCs(formatCRCs(crcs))
		require.NoError(t, err, "the cache format reads back")
		assert.Equal(t, crcs, again)
	})
}

func TestParseSymversCRCs(t *testing.T) {
	got, err := parseSymversCRCs([]byte("0x62c2ce88\tget_device\tvmlinux\tEXPORT_SYMBOL_GPL\t\n0x21f7133c\tusb_get_dev\tdrivers/usb/core/usbcore\tEXPORT_SYMBOL_GPL\t\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]kernelCRC{
		"get_device":  {crc: 0x62c2ce88, module: "vmlinux"},
		"usb_get_dev": {crc: 0x21f7133c, module: "drivers/usb/core/usbcore"},
	}, got)
	for bad, says := range map[string]string{
		"0x1\tprintk\n": "line 1: want crc, symbol, module, export type",
		"nothex\tprintk\tvmlinux\tEXPORT_SYMBOL\n": `line 1: bad CRC "nothex"`,
		"0x1\t\tvmlinux\tEXPORT_SYMBOL\n":          "line 1: want crc, symbol, module, export type",
	} {
		_, err := parseSymversCRCs([]byte(bad))
		assert.ErrorContains(t, err, says, "%q", bad)
	}
}

func FuzzParseSymversCRCs(f *testing.F) {
	f.Add([]byte("0x62c2ce88\tget_device\tvmlinux\tEXPORT_SYMBOL_GPL\t\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseSymversCRCs(data)
		if err == nil {
			assert.NotNil(t, got)
		}
	})
}

func TestCompareCRCs(t *testing.T) {
	kernel := map[string]kernelCRC{
		"get_device":  {0x62c2ce88, "vmlinux"},
		"put_device":  {0x11111111, "vmlinux"},
		"usb_get_dev": {0x21f7133c, "drivers/usb/core/usbcore"},
		"nf_thing":    {0x33333333, "net/netfilter/nf-conntrack"},
		"elsewhere":   {0x44444444, "fs/other"},
	}
	const sv = "/k/Module.symvers"
	for _, tc := range []struct {
		name          string
		target        string
		orig, patched exportCRCs
		changes       []CRCChange // want an ExportVersionError with these
		mismatch      []string    // want ErrTreeMismatch naming these
	}{
		{name: "unchanged", target: "vmlinux",
			orig:    exportCRCs{"get_device": 0x62c2ce88, "put_device": 0x11111111},
			patched: exportCRCs{"get_device": 0x62c2ce88, "put_device": 0x11111111}},
		{name: "changed", target: "vmlinux",
			orig:    exportCRCs{"get_device": 0x62c2ce88, "put_device": 0x11111111},
			patched: exportCRCs{"put_device": 0x22222222, "get_device": 0x12345678},
			changes: []CRCChange{{"get_device", 0x62c2ce88, 0x12345678}, {"put_device", 0x11111111, 0x22222222}}},
		{name: "module export, '-' in the module name", target: "nf_conntrack",
			orig:    exportCRCs{"nf_thing": 0x33333333},
			patched: exportCRCs{"nf_thing": 0x1},
			changes: []CRCChange{{"nf_thing", 0x33333333, 0x1}}},
		{name: "original disagrees with the kernel", target: "vmlinux",
			orig:     exportCRCs{"get_device": 0x1, "put_device": 0x11111111},
			patched:  exportCRCs{"get_device": 0x2, "put_device": 0x11111111},
			mismatch: []string{"get_device: 0x00000001 computed, 0x62c2ce88 in Module.symvers"}},
		{name: "not in the kernel (trimmed) or another object's: no verdict on the tree", target: "usbcore",
			orig:    exportCRCs{"trimmed": 0x5, "elsewhere": 0x6, "usb_get_dev": 0x21f7133c},
			patched: exportCRCs{"trimmed": 0x5, "elsewhere": 0x6, "usb_get_dev": 0x21f7133c}},
		{name: "a change of an export the kernel does not list still counts", target: "vmlinux",
			orig:    exportCRCs{"trimmed": 0x5},
			patched: exportCRCs{"trimmed": 0x7},
			changes: []CRCChange{{"trimmed", 0x5, 0x7}}},
		{name: "export added or removed: the differ's business", target: "vmlinux",
			orig:    exportCRCs{"get_device": 0x62c2ce88},
			patched: exportCRCs{"brand_new": 0x9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := compareCRCs("drivers/base/core.o", tc.target, sv, &unitCRCs{orig: tc.orig, patched: tc.patched}, kernel)
			switch {
			case tc.changes != nil:
				var ve *ExportVersionError
				require.True(t, errors.As(err, &ve), "%v", err)
				assert.Equal(t, &ExportVersionError{Object: "drivers/base/core.o", Changes: tc.changes}, ve)
				assert.ErrorIs(t, err, ErrExportVersionChanged)
				assert.ErrorIs(t, err, ErrUnsupportedPatch)
				assert.NotErrorIs(t, err, ErrTreeMismatch)
			case tc.mismatch != nil:
				require.ErrorIs(t, err, ErrTreeMismatch)
				assert.NotErrorIs(t, err, ErrExportVersionChanged, "a wrong tree is not blamed on the patch")
				for _, m := range tc.mismatch {
					assert.Contains(t, err.Error(), m)
				}
				assert.Contains(t, err.Error(), sv)
				assert.True(t, strings.HasPrefix(err.Error(), "drivers/base/core.o: "), err.Error())
			default:
				assert.NoError(t, err)
			}
		})
	}
}

func TestExportVersionErrorMessage(t *testing.T) {
	e := &ExportVersionError{Object: "fs/seq_file.o", Changes: []CRCChange{{"seq_lseek", 0xdef3fb11, 0x1234}}}
	msg := e.Error()
	for _, want := range []string{"fs/seq_file.o", "seq_lseek", "0xdef3fb11", "0x00001234", "#include", "__GENKSYMS__", "Exported symbol versioning"} {
		assert.Contains(t, msg, want)
	}
	var many []CRCChange
	for _, s := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		many = append(many, CRCChange{Symbol: s, Old: 1, New: 2})
	}
	msg = (&ExportVersionError{Object: "x.o", Changes: many}).Error()
	assert.Contains(t, msg, "h (CRC 0x00000001 in the kernel, 0x00000002 patched) and 2 more (i, j)", "every symbol is named, the first ones with their CRCs")
}

func TestGenksymsArgs(t *testing.T) {
	got := genksymsArgs([]string{"gcc-12", "-ffunction-sections", "-Iinclude", "-DX=1", "-c", "-o", "/w/orig/fs/a.o", "fs/a.c"})
	assert.Equal(t, []string{"gcc-12", "-ffunction-sections", "-Iinclude", "-DX=1", "fs/a.c", "-E", "-D__GENKSYMS__"}, got)
}

func TestCRCMethod(t *testing.T) {
	assert.Equal(t, crcNone, crcMethodOf(kconfig{}))
	assert.Equal(t, crcGenksyms, crcMethodOf(kconfig{"CONFIG_MODVERSIONS": "y"}))
	assert.Equal(t, crcGenksyms, crcMethodOf(kconfig{"CONFIG_MODVERSIONS": "y", "CONFIG_GENKSYMS": "y"}))
	assert.Equal(t, crcDwarf, crcMethodOf(kconfig{"CONFIG_MODVERSIONS": "y", "CONFIG_GENDWARFKSYMS": "y"}))

	tree := t.TempDir()
	for _, cfg := range []kconfig{{"CONFIG_MODVERSIONS": "y"}, {"CONFIG_MODVERSIONS": "y", "CONFIG_GENDWARFKSYMS": "y"}} {
		_, err := newCRCTool(tree, cfg)
		require.ErrorIs(t, err, ErrModversions, "no tool in the tree")
		assert.Contains(t, err.Error(), "make prepare")
	}
	_, err := newCRCTool(tree, kconfig{"CONFIG_MODVERSIONS": "y", "CONFIG_GENDWARFKSYMS": "y"})
	assert.Contains(t, err.Error(), "scripts/gendwarfksyms/gendwarfksyms")
	tool, err := newCRCTool(tree, kconfig{})
	require.NoError(t, err)
	assert.Equal(t, crcNone, tool.method)
}

// fakeGenksyms stands in for scripts/genksyms/genksyms: for every export
// marker of testdata/modversions/exports.c it prints a CRC of the
// preprocessed input without line markers, so the CRC follows the types
// the way genksyms' does for this fixture.
const fakeGenksyms = `#!/bin/sh
in=$(grep -v '^#')
crc=$(printf '%s' "$in" | cksum | cut -d' ' -f1)
printf '%s\n' "$in" | sed -n 's/^fixture_export_\([a-z_]*\).*/\1/p' | while read n; do
	printf '#SYMVER %s 0x%08x\n' "$n" "$crc"
done
`

// crcFixture is a tree with the fake genksyms and the fixture source.
func crcFixture(t *testing.T) (tree, cc string) {
	t.Helper()
	cc = findCC(t)
	tree = t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(tree, "scripts/genksyms"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tree, "scripts/genksyms/genksyms"), []byte(fakeGenksyms), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(tree, "lib"), 0o755))
	src, err := os.ReadFile("../testdata/modversions/exports.c")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(tree, "lib/exports.c"), src, 0o644))
	return tree, cc
}

func findCC(t *testing.T) string {
	for _, cc := range []string{"gcc-12", "gcc"} {
		if p, err := exec.LookPath(cc); err == nil {
			return p
		}
	}
	t.Skip("needs gcc-12 (or gcc) to preprocess and compile the fixture")
	return ""
}

// TestStartCRCs runs the CRC computation of a unit as Run does: predicted
// from kbuild's .cmd file (beside the compile) or found in the compiled
// objects (after it), and the original's CRCs from the cache.
func TestStartCRCs(t *testing.T) {
	tree, cc := crcFixture(t)
	work := t.TempDir()
	compileCmd := func(out string, extra ...string) []string {
		return append(append([]string{cc, "-O2"}, extra...), "-c", "-o", out, "lib/exports.c")
	}
	for _, tc := range []struct {
		name    string
		cmdFile string // the .cmd file kbuild left, "" for none
	}{
		{"kbuild saw exports", "cmd_lib/exports.o := gcc -c -o lib/exports.o lib/exports.c\n#SYMVER widget_valid 0x1\n"},
		{"found in the compiled objects", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmdPath := cmdFilePath(tree, "lib/exports.o")
			os.Remove(cmdPath)
			if tc.cmdFile != "" {
				require.NoError(t, os.WriteFile(cmdPath, []byte(tc.cmdFile), 0o644))
			}
			assert.Equal(t, tc.cmdFile != "", kbuildSawExports(tree, "lib/exports.o"))
			r := &runner{config: kconfig{"CONFIG_MODVERSIONS": "y"}, tree: Tree{Dir: tree}, log: discardLogger()}
			cache := t.TempDir()
			b := &unitBuilder{r: r, cache: &objectCache{dir: cache}, slots: newSlotQueue(2)}
			u := &unit{obj: "lib/exports.o", orig: filepath.Join(work, "orig.o"), patched: filepath.Join(work, "patched.o")}
			origCC, patchedCC := compileCmd(u.orig), compileCmd(u.patched, "-DPATCHED")
			key := strings.Repeat("ab", 32)

			wait := b.startCRCs(t.Context(), u, key, origCC, patchedCC)
			for _, c := range [][]string{origCC, patchedCC} {
				cmd := exec.Command(c[0], c[1:]...)
				cmd.Dir = tree // kbuild's commands are tree-relative
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "%s", out)
			}
			require.NoError(t, wait(true))
			require.NotNil(t, u.crcs)
			require.Contains(t, u.crcs.orig, "widget_valid")
			require.Contains(t, u.crcs.patched, "widget_valid")
			assert.NotEqual(t, u.crcs.orig["widget_valid"], u.crcs.patched["widget_valid"], "completing struct widget changes the CRC")
			cached, err := os.ReadFile(b.cache.crcPath(key))
			require.NoError(t, err)
			assert.Equal(t, formatCRCs(u.crcs.orig), cached)

			// The next build takes the original's CRCs from the cache.
			require.NoError(t, os.WriteFile(b.cache.crcPath(key), []byte("#SYMVER widget_valid 0x0badcafe\n"), 0o644))
			u2 := &unit{obj: u.obj, orig: u.orig, patched: u.patched}
			require.NoError(t, b.startCRCs(t.Context(), u2, key, origCC, patchedCC)(true))
			assert.Equal(t, exportCRCs{"widget_valid": 0x0badcafe}, u2.crcs.orig)
			assert.Equal(t, u.crcs.patched, u2.crcs.patched)
		})
	}
}

func TestStartCRCsNoModversions(t *testing.T) {
	r := &runner{config: kconfig{}, tree: Tree{Dir: t.TempDir()}, log: discardLogger()}
	b := &unitBuilder{r: r, cache: &objectCache{}, slots: newSlotQueue(1)}
	u := &unit{obj: "lib/x.o", orig: "/nonexistent/orig.o", patched: "/nonexistent/patched.o"}
	require.NoError(t, b.startCRCs(t.Context(), u, "", nil, nil)(true))
	assert.Nil(t, u.crcs, "nothing computed without CONFIG_MODVERSIONS")
}

func TestStartCRCsToolMissing(t *testing.T) {
	tree, cc := crcFixture(t)
	require.NoError(t, os.Remove(filepath.Join(tree, "scripts/genksyms/genksyms")))
	work := t.TempDir()
	r := &runner{config: kconfig{"CONFIG_MODVERSIONS": "y"}, tree: Tree{Dir: tree}, log: discardLogger()}
	b := &unitBuilder{r: r, cache: &objectCache{}, slots: newSlotQueue(1)}
	u := &unit{obj: "lib/exports.o", orig: filepath.Join(work, "o.o"), patched: filepath.Join(work, "p.o")}
	args := []string{cc, "-c", "-o", u.orig, "lib/exports.c"}
	wait := b.startCRCs(t.Context(), u, "", args, args)
	for _, out := range []string{u.orig, u.patched} {
		o, err := exec.Command(cc, "-c", "-o", out, filepath.Join(tree, "lib/exports.c")).CombinedOutput()
		require.NoError(t, err, "%s", o)
	}
	err := wait(true)
	require.ErrorIs(t, err, ErrModversions, "an exporting object without a CRC generator is an error, not a pass")
}

// fakeGendwarfksyms stands in for scripts/gendwarfksyms/gendwarfksyms: it
// versions every export named on stdin with a checksum of the object,
// whose DWARF describes struct widget once -DPATCHED completes it.
const fakeGendwarfksyms = `#!/bin/sh
[ -f "$1" ] || { echo "no object $1" >&2; exit 1; }
crc=$(cksum < "$1" | cut -d' ' -f1)
while read n; do printf '#SYMVER %s 0x%08x\n' "$n" "$crc"; done
`

// TestStartCRCsDwarf runs the CONFIG_GENDWARFKSYMS path: after the
// compile, the export names found in each object go to the tool on stdin.
func TestStartCRCsDwarf(t *testing.T) {
	tree, cc := crcFixture(t)
	require.NoError(t, os.MkdirAll(filepath.Join(tree, "scripts/gendwarfksyms"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tree, "scripts/gendwarfksyms/gendwarfksyms"), []byte(fakeGendwarfksyms), 0o755))
	work := t.TempDir()
	r := &runner{config: kconfig{"CONFIG_MODVERSIONS": "y", "CONFIG_GENDWARFKSYMS": "y"}, tree: Tree{Dir: tree}, log: discardLogger()}
	b := &unitBuilder{r: r, cache: &objectCache{}, slots: newSlotQueue(2)}
	u := &unit{obj: "lib/exports.o", orig: filepath.Join(work, "orig.o"), patched: filepath.Join(work, "patched.o")}
	wait := b.startCRCs(t.Context(), u, "", nil, nil)
	for out, extra := range map[string]string{u.orig: "-DORIG", u.patched: "-DPATCHED"} {
		cmd := exec.Command(cc, "-g", "-O2", extra, "-c", "-o", out, "lib/exports.c")
		cmd.Dir = tree
		o, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", o)
	}
	require.NoError(t, wait(true))
	require.NotNil(t, u.crcs)
	require.Contains(t, u.crcs.orig, "widget_valid")
	require.Contains(t, u.crcs.patched, "widget_valid")
	assert.NotEqual(t, u.crcs.orig["widget_valid"], u.crcs.patched["widget_valid"])
}
