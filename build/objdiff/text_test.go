// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"debug/elf"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJSONShape(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{Result{Object: "a.o", Parent: "vmlinux"},
			`{"object":"a.o","parent":"vmlinux","changed":[],"new":[],"included":[],"relocations":[],"warnings":[]}`},
		{Function{Name: "f", Bind: elf.STB_GLOBAL, Size: 16, HasFentry: true},
			`{"name":"f","bind":"STB_GLOBAL","size":16,"has_fentry":true}`},
		{Symbol{Name: "v", Type: elf.STT_OBJECT, Bind: elf.STB_LOCAL, Section: ".data.v", Status: "NEW"},
			`{"name":"v","type":"STT_OBJECT","bind":"STB_LOCAL","section":".data.v","status":"NEW"}`},
		{Relocation{Section: ".text.f", Offset: 4, Type: elf.R_X86_64_PLT32, Addend: -4, Symbol: "g",
			Bind: elf.STB_LOCAL, SymType: elf.STT_FUNC, DefinedInObject: true, Livepatch: true},
			`{"section":".text.f","offset":4,"type":"R_X86_64_PLT32","addend":-4,"symbol":"g","bind":"STB_LOCAL",` +
				`"sym_type":"STT_FUNC","defined_in_object":true,"exported":false,"livepatch":true}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.in)
		require.NoError(t, err)
		assert.JSONEq(t, c.want, string(b))
	}
}
