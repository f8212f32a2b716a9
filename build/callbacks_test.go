// SPDX-License-Identifier: Apache-2.0

package build

import (
	"debug/elf"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/internal/klp"
	"github.com/klpkit/klpkit/internal/elfobj"
)

// callbackObject has a pre_patch entry pointing at its function directly
// and a post_unpatch entry pointing through the section symbol, as gas
// emits for static functions.
func callbackObject(extra ...*elfobj.Rela) *elfobj.File {
	pre := &elfobj.Section{Name: ".text.pre", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, Data: make([]byte, 8)}
	post := &elfobj.Section{Name: ".text.post", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, Data: make([]byte, 8)}
	preFn := &elfobj.Symbol{Name: "pre", Type: elf.STT_FUNC, Section: pre, Size: 8}
	postFn := &elfobj.Symbol{Name: "post", Type: elf.STT_FUNC, Section: post, Size: 8}
	postSec := &elfobj.Symbol{Type: elf.STT_SECTION, Section: post}
	f := &elfobj.File{Machine: elf.EM_X86_64, Symbols: []*elfobj.Symbol{{}, preFn, postFn, postSec}}
	f.Sections = []*elfobj.Section{{}, pre, post}
	add := func(kind string, relas ...*elfobj.Rela) {
		data := &elfobj.Section{Name: callbackPrefix + kind, Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC | elf.SHF_WRITE, Data: make([]byte, 16*len(relas))}
		rela := &elfobj.Section{Name: ".rela" + data.Name, Type: elf.SHT_RELA, Target: data, Relas: relas}
		f.Sections = append(f.Sections, data, rela)
	}
	add("pre_patch", &elfobj.Rela{Offset: 0, Type: elf.R_X86_64_64, Sym: preFn})
	add("post_unpatch", append([]*elfobj.Rela{{Offset: 0, Type: elf.R_X86_64_64, Sym: postSec}}, extra...)...)
	return f
}

func TestCollectCallbacks(t *testing.T) {
	f := callbackObject()
	cbs, err := collectCallbacks(f, 3)
	require.NoError(t, err)
	assert.Equal(t, klp.Callbacks{PrePatch: "klpkit_cb_3_pre_patch", PostUnpatch: "klpkit_cb_3_post_unpatch"}, cbs)
	assert.Equal(t, f.Symbol("pre").Section, f.Symbol("klpkit_cb_3_pre_patch").Section)
	assert.Equal(t, f.Symbol("post").Section, f.Symbol("klpkit_cb_3_post_unpatch").Section)
}

func TestCollectCallbacksRefusesTwoOfAKind(t *testing.T) {
	f := callbackObject()
	rela := f.Sections[len(f.Sections)-1] // .rela.kpatch.callbacks.post_unpatch
	rela.Relas = append(rela.Relas, &elfobj.Rela{Offset: 16, Type: elf.R_X86_64_64, Sym: f.Symbol("pre")})
	_, err := collectCallbacks(f, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "two post_unpatch callbacks")
}

func TestCollectCallbacksNotAFunction(t *testing.T) {
	f := callbackObject()
	rela := f.Sections[len(f.Sections)-1]
	rela.Relas[0].Addend = 4 // into the middle of post
	_, err := collectCallbacks(f, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not point at a function")
}

func TestModuleFileName(t *testing.T) {
	for in, want := range map[string]string{
		"binfmt_misc.ko": "binfmt_misc", "nf-conntrack.ko": "nf_conntrack", "ext4.ko.debug": "ext4",
		"ext4.ko.xz": "", "Makefile": "", "x.o": "",
	} {
		assert.Equal(t, want, moduleFileName(in), in)
	}
}
