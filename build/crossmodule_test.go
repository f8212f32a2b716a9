// SPDX-License-Identifier: Apache-2.0

package build

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/internal/klp"
)

// nfsdLike is a unit of module nfsd whose patched function calls sunrpc's
// export cache_check and vmlinux's export printk.
var nfsdLike = crossUnit{obj: "fs/nfsd/export.o", target: "nfsd",
	orig: `int printk(const char *, ...);
int cache_check(void *, void *, void *);
int e_show(void *m) { return cache_check(m, m, 0) + printk("a"); }
`,
	patched: `int printk(const char *, ...);
int cache_check(void *, void *, void *);
int e_show(void *m) { return cache_check(m, m, 0) + printk("b"); }
`}

// TestModuleExportReference: a reference from code patched into a module
// to another module's export becomes a klp relocation of the patched
// module against the exporter's symbol (kpatch's rule), whether or not the
// patched module's .ko is at hand; the module's own export and vmlinux's
// stay as they were.
func TestModuleExportReference(t *testing.T) {
	const dependsOnSunrpc = `static const char modinfo[] __attribute__((section(".modinfo"), used)) = "depends=grace,sunrpc";
int printk(const char *, ...);
int cache_check(void *, void *, void *);
int e_show(void *m) { return cache_check(m, m, 0) + printk("a"); }
`
	const noDepends = `static const char modinfo[] __attribute__((section(".modinfo"), used)) = "depends=";
int e_show(void *m) { return 0; }
`
	for _, tc := range []struct {
		name, target, ko string // ko: nfsd.ko's source, "" for none
		want, warning    string
	}{
		{"patched module's .ko read", "nfsd", dependsOnSunrpc, klp.CrossKlpSymbolName("nfsd", "sunrpc", "cache_check", 0), ""},
		{"no .ko", "nfsd", "", klp.CrossKlpSymbolName("nfsd", "sunrpc", "cache_check", 0), ""},
		{"module that does not use sunrpc yet", "nfsd", noDepends, klp.CrossKlpSymbolName("nfsd", "sunrpc", "cache_check", 0),
			"nfsd loads only if sunrpc is loaded first"},
		{"the exporter's own export", "sunrpc", "", klp.KlpSymbolName("sunrpc", "cache_check", 0), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := nfsdLike
			u.target = tc.target
			r := crossRunner(t, u)
			r.symvers["cache_check"] = "net/sunrpc/sunrpc"
			if tc.ko != "" {
				r.tree.ModulesDir = moduleDir(t, tc.target, tc.ko)
			}
			_, _, path, err := r.preparePatchObject(0, r.objs[0])
			require.NoError(t, err)
			undef := undefinedNames(t, path)
			assert.True(t, undef[tc.want], "references %s: %v", tc.want, undef)
			assert.False(t, undef["cache_check"], "a plain cache_check makes the patch module depend on sunrpc")
			assert.True(t, undef["printk"], "vmlinux's export stays a normal relocation")
			var warned []string
			for _, w := range r.res.Warnings {
				if strings.Contains(w, "cache_check") {
					warned = append(warned, w)
				}
			}
			if tc.warning == "" {
				assert.Empty(t, warned)
			} else {
				require.Len(t, warned, 1)
				assert.Contains(t, warned[0], tc.warning)
			}
		})
	}
}

func TestModuleExporting(t *testing.T) {
	r := &runner{symvers: symvers{"printk": "vmlinux", "cache_check": "net/sunrpc/sunrpc", "x": "drivers/foo/my-mod", "y": "/abs/ext/oot.ko"}}
	for name, want := range map[string]string{"printk": "", "cache_check": "sunrpc", "x": "my_mod", "y": "oot", "nope": ""} {
		assert.Equal(t, want, r.moduleExporting(name), name)
	}
}
