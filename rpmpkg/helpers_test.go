// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/kmod/kmodtest"
)

// testEpoch is a fixed SOURCE_DATE_EPOCH for reproducible test packages.
var testEpoch = time.Unix(1700000000, 0).UTC()

func testPackage() Package {
	return Package{
		Name:      "livepatch-cve-2024-1234",
		Version:   "2",
		Release:   "3",
		Kernel:    "6.1.83-5.ph5",
		Module:    testModule("livepatch_cve_2024_1234", "6.1.83-5.ph5", ""),
		BuildTime: testEpoch,
	}
}

// testModule is a livepatch module (ELF with .modinfo, no code) named name
// for kernel; a non-empty ver goes on a line of its own as "ver:<ver>",
// which the fake kpatch (testdata/rpmpkg/fakebin) records as its version.
func testModule(name, kernel, ver string) []byte {
	spec := kmodtest.ModuleSpec{Name: name, Vermagic: kernel + " SMP preempt mod_unload modversions ", Livepatch: true}
	if ver != "" {
		spec.Extra = []string{"klptest=\nver:" + ver + "\n"}
	}
	return kmodtest.BuildModule(spec)
}

// paddedModule is testModule grown to size bytes, the padding after the
// ELF image (which no section covers) filled by fill.
func paddedModule(size int, fill func([]byte)) []byte {
	m := testModule("livepatch_cve_2024_1234", "6.1.83-5.ph5", "")
	pad := make([]byte, size-len(m))
	fill(pad)
	return append(m, pad...)
}

func buildBytes(t testing.TB, p Package) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, Build(&buf, p))
	oracleCompare(t, "Build "+p.Name, buf.Bytes())
	return buf.Bytes()
}

func writeBytes(t testing.TB, s Spec) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, s))
	oracleCompare(t, "Write "+s.FileName(), buf.Bytes())
	return buf.Bytes()
}
