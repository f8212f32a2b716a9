// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckConfig(t *testing.T) {
	fragment := "# comment\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=n\nCONFIG_S=\"x\"\n\n"
	tests := []struct {
		name, config string
		bad          []string
	}{
		{"all landed", "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_S=\"x\"\n", nil},
		{"missing is not set", "CONFIG_A=y\nCONFIG_S=\"x\"\n", nil},
		{"dropped", "# CONFIG_A is not set\nCONFIG_B=y\nCONFIG_C=m\nCONFIG_S=\"y\"\n", []string{"CONFIG_A", "CONFIG_B", "CONFIG_C", "CONFIG_S"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkConfig("frag", []byte(fragment), []byte(tt.config))
			if tt.bad == nil {
				require.NoError(t, err)
				return
			}
			var me *ConfigMismatchError
			require.True(t, errors.As(err, &me), "%v", err)
			require.Len(t, me.Options, len(tt.bad))
			for i, o := range tt.bad {
				require.Contains(t, me.Options[i], o)
			}
			require.Contains(t, err.Error(), "frag")
		})
	}
	require.ErrorContains(t, checkConfig("frag", []byte("CONFIG_A y\n"), nil), "frag:1: not a kernel config line")
}

// TestRealFragmentParses keeps the committed fragment well-formed.
func TestRealFragmentParses(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(assetsDir, fragmentName))
	require.NoError(t, err)
	opts, err := parseConfig(fragmentName, data)
	require.NoError(t, err)
	have := map[string]string{}
	for _, o := range opts {
		have[o.Name] = o.Value
	}
	for _, must := range []string{"CONFIG_LIVEPATCH", "CONFIG_DYNAMIC_FTRACE", "CONFIG_KALLSYMS_ALL", "CONFIG_MODULES", "CONFIG_DEVPORT", "CONFIG_SERIAL_8250_CONSOLE"} {
		require.Equal(t, "y", have[must], must)
	}
	require.Equal(t, `""`, have["CONFIG_LOCALVERSION"], "the spec's sed rewrites an empty CONFIG_LOCALVERSION")
}

func TestSetLocalVersion(t *testing.T) {
	got, err := setLocalVersion([]byte("CONFIG_A=y\nCONFIG_LOCALVERSION=\"\"\nCONFIG_B=y\n"), "-1.ph5")
	require.NoError(t, err)
	require.Equal(t, "CONFIG_A=y\nCONFIG_LOCALVERSION=\"-1.ph5\"\nCONFIG_B=y\n", string(got))
	_, err = setLocalVersion([]byte("CONFIG_LOCALVERSION=\"-x\"\n"), "-1.ph5")
	require.ErrorContains(t, err, "no CONFIG_LOCALVERSION=\"\" line")
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("CONFIG_A=y\n# CONFIG_B is not set\n"))
	f.Add([]byte("CONFIG_S=\"a b\"\n\n# c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts, err := parseConfig("fuzz", data)
		if err != nil {
			return
		}
		for _, o := range opts {
			if o.Name == "" || o.Line <= 0 {
				t.Fatalf("bad option %+v", o)
			}
		}
	})
}
