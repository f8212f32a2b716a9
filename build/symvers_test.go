// SPDX-License-Identifier: Apache-2.0

package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadSymvers(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	good := write("good", "0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n0x1\tnf_foo\tnet/netfilter/nf_foo\tEXPORT_SYMBOL_GPL\tNF\n")
	sv, err := readSymvers(good)
	require.NoError(t, err)
	assert.Equal(t, symvers{"printk": "vmlinux", "nf_foo": "net/netfilter/nf_foo"}, sv)

	long := write("long", "0x1\t"+strings.Repeat("s", 100<<10)+"\tvmlinux\tEXPORT_SYMBOL\t\n0x2\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n")
	sv, err = readSymvers(long)
	require.NoError(t, err, "a long symbol name is not an error")
	assert.Equal(t, "vmlinux", sv["printk"], "lines after a long one are read")

	bad := write("bad", "0x1\tprintk\n")
	_, err = readSymvers(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad+" line 1")
}

func FuzzReadSymvers(f *testing.F) {
	f.Add([]byte("0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "Module.symvers")
		require.NoError(t, os.WriteFile(p, data, 0o644))
		sv, err := readSymvers(p)
		if err != nil {
			assert.Contains(t, err.Error(), p, "errors name the file")
			return
		}
		assert.NotNil(t, sv)
	})
}
