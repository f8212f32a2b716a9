//go:build linux

package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/vmtest"
)

const vmSampleKo = "/lab/" + lab.SampleName + ".ko"

// TestCLIInVM drives the kpatch command's run() on the real kernel: install
// into the store, load --all as boot does, list (kpatch's exact layout),
// info, unload --all, uninstall.
func TestCLIInVM(t *testing.T) {
	vmtest.Run(t, vmtest.Config{
		Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
			kos, err := l.BuildModule(t.Context(), "../../testdata/lab/livepatch-sample", t.TempDir(), nil)
			require.NoError(t, err)
			return []vmtest.File{{Guest: vmSampleKo, Host: kos[0]}}
		},
	}, func(t *testing.T) {
		var out, errb bytes.Buffer
		kpatch := func(args ...string) error {
			out.Reset()
			errb.Reset()
			err := run(args, &out, &errb)
			t.Logf("kpatch %v: err=%v\nstdout:\n%sstderr:\n%s", args, err, out.String(), errb.String())
			return err
		}
		rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
		require.NoError(t, err)
		kver := string(bytes.TrimSpace(rel))

		require.NoError(t, kpatch("install", vmSampleKo))
		require.FileExists(t, "/lib/modules/"+kver+"/livepatches/"+lab.SampleName+".ko")
		require.NoError(t, kpatch("load", "--all"))
		assert.Contains(t, out.String(), "loading patch module: /lib/modules/"+kver+"/livepatches/"+lab.SampleName+".ko\n")
		cmdline, err := os.ReadFile("/proc/cmdline")
		require.NoError(t, err)
		require.Equal(t, lab.SampleMarker+"\n", string(cmdline))

		require.NoError(t, kpatch("list"))
		assert.Equal(t, "Loaded patch modules:\n"+lab.SampleName+" [enabled]\n\nInstalled patch modules:\n"+lab.SampleName+" ("+kver+")\n", out.String())
		require.NoError(t, kpatch("info", lab.SampleName))
		assert.Contains(t, out.String(), "livepatch:      Y\n")
		require.NoError(t, kpatch("signal"), "nothing in transition: a warning, exit 0")

		require.Error(t, kpatch("load", vmSampleKo), "already loaded")
		assert.Contains(t, errb.String(), "kpatch: failed to load module")

		require.NoError(t, kpatch("unload", "--all"))
		assert.Contains(t, out.String(), "unloading patch module: "+lab.SampleName+"\n")
		assert.NoDirExists(t, "/sys/module/"+lab.SampleName)
		require.NoError(t, kpatch("uninstall", lab.SampleName))
		require.NoError(t, kpatch("list"))
		assert.Equal(t, "Loaded patch modules:\n\nInstalled patch modules:\n", out.String())
	})
}
