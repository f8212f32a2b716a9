package rpmpkg

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testEpoch is a fixed SOURCE_DATE_EPOCH for reproducible test packages.
var testEpoch = time.Unix(1700000000, 0).UTC()

func testPackage() Package {
	return Package{
		Name:      "livepatch-cve-2024-1234",
		Version:   "2",
		Release:   "3",
		Kernel:    "6.1.83-5.ph5",
		Module:    []byte("\x7fELF fake livepatch module"),
		BuildTime: testEpoch,
	}
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
