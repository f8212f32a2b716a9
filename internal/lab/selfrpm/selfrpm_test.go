// SPDX-License-Identifier: Apache-2.0

package selfrpm

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/needtest"
	"github.com/klpkit/klpkit/internal/pgptest"
	"github.com/klpkit/klpkit/rpmpkg"
)

var testTime = time.Unix(1765000000, 0).UTC()

// testInputs are small stand-ins for the commands (an ELF magic and a name):
// the packaging does not depend on their size, and real builds take a minute.
func testInputs(t *testing.T) Inputs {
	t.Helper()
	unit, err := os.ReadFile("../../../examples/kpatch/kpatch.service")
	require.NoError(t, err)
	license, err := os.ReadFile("../../../LICENSE")
	require.NoError(t, err)
	return Inputs{
		Kpatch: []byte("\x7fELF kpatch"), KpatchBuild: []byte("\x7fELF kpatch-build"),
		AutoLivepatch: []byte("\x7fELF auto_livepatch"), Unit: unit, License: license,
	}
}

func testOptions() Options {
	return Options{Version: "0", Release: "0.20251206054640.git0123456789ab", BuildTime: testTime}
}

func TestSpecsRefuse(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Inputs, *Options)
		want   string
	}{
		{"empty kpatch", func(in *Inputs, _ *Options) { in.Kpatch = nil }, "kpatch is empty"},
		{"not ELF", func(in *Inputs, _ *Options) { in.AutoLivepatch = []byte("#!/bin/sh\n") }, "auto_livepatch is not an ELF"},
		{"unit runs something else", func(in *Inputs, _ *Options) { in.Unit = []byte("[Service]\nExecStart=/bin/true\n") }, "load --all"},
		{"no license", func(in *Inputs, _ *Options) { in.License = nil }, "LICENSE is empty"},
		{"dash in release", func(_ *Inputs, o *Options) { o.Release = "1-2" }, "no '-'"},
		{"no version", func(_ *Inputs, o *Options) { o.Version = "" }, "no '-'"},
		{"no build time", func(_ *Inputs, o *Options) { o.BuildTime = time.Time{} }, "SOURCE_DATE_EPOCH"},
		{"bad dist", func(_ *Inputs, o *Options) { o.Dists = []string{"el9"} }, `dist "el9"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, o := testInputs(t), testOptions()
			tc.change(&in, &o)
			_, err := Specs(in, o)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrInvalid), "%v", err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func needRPM(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("rpm"); err != nil {
		needtest.Missing(t, "needs rpm (Debian package rpm)")
	}
}

func rpmOut(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("rpm", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "rpm %s:\n%s%s", strings.Join(args, " "), &stdout, &stderr)
	return stdout.String()
}

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }

// What rpm itself reads from each package: files, relations, scriptlets,
// digests, and Photon's header conventions.
func TestRPMToolQueries(t *testing.T) {
	needRPM(t)
	dir := t.TempDir()
	files, err := WriteDir(dir, testInputs(t), testOptions())
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	const rel = "0-0.20251206054640.git0123456789ab"
	assert.Equal(t, []string{
		"klpkit-kpatch-" + rel + ".ph4.x86_64.rpm", "klpkit-kpatch-build-" + rel + ".ph4.x86_64.rpm",
		"klpkit-kpatch-utils-" + rel + ".ph4.x86_64.rpm",
		"klpkit-kpatch-" + rel + ".ph5.x86_64.rpm", "klpkit-kpatch-build-" + rel + ".ph5.x86_64.rpm",
		"klpkit-kpatch-utils-" + rel + ".ph5.x86_64.rpm",
	}, names)

	for _, tc := range []struct {
		name, photon    string
		files, requires string
		group           string
		scripts         bool
		dumpContains    []string
	}{
		{
			name: KpatchName, photon: "kpatch", group: "System Environment/Kernel", scripts: true,
			files: lines(PresetPath, UnitPath, KpatchPath, "/usr/share/licenses/klpkit-kpatch",
				"/usr/share/licenses/klpkit-kpatch/LICENSE", "/var/lib/kpatch", "/var/opt/kpatch", "/var/opt/kpatch/modules"),
			dumpContains: []string{KpatchPath + " 11 1765000000 ", " 0100755 root root ", UnitPath + " "},
		},
		{
			name: KpatchBuildName, photon: "kpatch-build", group: "Development/Tools",
			files:    lines(KpatchBuildPath, "/usr/share/licenses/klpkit-kpatch-build", "/usr/share/licenses/klpkit-kpatch-build/LICENSE"),
			requires: lines("gcc", "make", "binutils"),
		},
		{
			name: UtilsName, photon: "kpatch-utils", group: "Development/Tools",
			files:    lines(AutoPath, AutoShPath, "/usr/share/licenses/klpkit-kpatch-utils", "/usr/share/licenses/klpkit-kpatch-utils/LICENSE"),
			requires: lines("gcc", "make", "binutils", "bc", "bison", "flex", "elfutils-libelf-devel", "openssl-devel"),
			// The Photon name is a link to the same binary.
			dumpContains: []string{AutoShPath + " 14 1765000000 ", " 0120777 root root 0 0 1 auto_livepatch\n"},
		},
	} {
		for _, dist := range []string{"ph4", "ph5"} {
			t.Run(tc.name+"."+dist, func(t *testing.T) {
				file := filepath.Join(dir, tc.name+"-"+rel+"."+dist+".x86_64.rpm")
				assert.Equal(t, tc.files, rpmOut(t, "-qpl", file))
				assert.Equal(t, tc.requires, rpmOut(t, "-qpR", file))
				assert.Equal(t, lines(tc.photon+" = "+KpatchCompat, tc.name+" = "+rel+"."+dist),
					rpmOut(t, "-qp", "--provides", file))
				assert.Equal(t, lines(tc.photon+" <= "+KpatchCompat), rpmOut(t, "-qp", "--obsoletes", file))
				assert.Equal(t, lines(tc.photon+" > "+KpatchCompat), rpmOut(t, "-qp", "--conflicts", file))
				assert.Contains(t, rpmOut(t, "-K", file), "digests OK")
				info := rpmOut(t, "-qp", "--qf", "%{LICENSE}|%{VENDOR}|%{GROUP}|%{DISTRIBUTION}|%{BUILDTIME}|%{RELEASE}\n", file)
				assert.Equal(t, "Apache-2.0|klpkit|"+tc.group+"|Photon|1765000000|0.20251206054640.git0123456789ab."+dist+"\n", info)
				assert.Contains(t, rpmOut(t, "-qp", "--changelog", file),
					"* Sat Dec 06 2025 klpkit project <https://github.com/klpkit/klpkit> "+rel+"."+dist+"\n- klpkit "+rel+" for Photon OS "+dist[2:]+".0.\n")
				assert.Equal(t, "/usr/share/licenses/"+tc.name+"/LICENSE\n", rpmOut(t, "-qpL", file), "%license")
				scripts := rpmOut(t, "-qp", "--scripts", file)
				if !tc.scripts {
					assert.Empty(t, scripts)
				} else {
					assert.Equal(t, "postinstall scriptlet (using /bin/sh):\n"+kpatchScriptlets.Post+
						"\npreuninstall scriptlet (using /bin/sh):\n"+kpatchScriptlets.PreUn+
						"\npostuninstall scriptlet (using /bin/sh):\n"+kpatchScriptlets.PostUn+"\n", scripts)
				}
				dump := rpmOut(t, "-qp", "--dump", file)
				for _, want := range tc.dumpContains {
					assert.Contains(t, dump, want)
				}
			})
		}
	}
}

// Same inputs, same bytes; signed packages too (RSA signatures at the build
// time are deterministic), and rpm verifies the signature with the key.
func TestReproducibleAndSigned(t *testing.T) {
	needRPM(t)
	in, o := testInputs(t), testOptions()
	o.Dists = []string{"ph5"}
	priv, pub := testKey(t)
	signer, err := rpmpkg.NewOpenPGPSigner(bytes.NewReader(priv), &rpmpkg.SignerOptions{Time: o.BuildTime})
	require.NoError(t, err)
	o.Signer = signer
	a, b := t.TempDir(), t.TempDir()
	fa, err := WriteDir(a, in, o)
	require.NoError(t, err)
	fb, err := WriteDir(b, in, o)
	require.NoError(t, err)
	require.Len(t, fa, 3)
	db := filepath.Join(t.TempDir(), "db")
	keyFile := filepath.Join(t.TempDir(), "key.asc")
	require.NoError(t, os.WriteFile(keyFile, pub, 0o644))
	rpmOut(t, "--dbpath", db, "--import", keyFile)
	for i := range fa {
		ra, err := os.ReadFile(fa[i])
		require.NoError(t, err)
		rb, err := os.ReadFile(fb[i])
		require.NoError(t, err)
		assert.True(t, bytes.Equal(ra, rb), "%s differs between two builds", filepath.Base(fa[i]))
		out := rpmOut(t, "--dbpath", db, "-Kv", fa[i])
		assert.Contains(t, out, "Header V4 RSA/SHA256 Signature, key ID")
		assert.NotContains(t, out, "NOKEY")
		assert.NotContains(t, out, "BAD")
	}
	o.BuildTime = o.BuildTime.Add(time.Second)
	fc, err := WriteDir(t.TempDir(), in, o)
	require.NoError(t, err)
	rc, err := os.ReadFile(fc[0])
	require.NoError(t, err)
	ra, err := os.ReadFile(fa[0])
	require.NoError(t, err)
	assert.False(t, bytes.Equal(ra, rc), "the build time is in the package")
}

func testKey(t *testing.T) (private, public []byte) {
	t.Helper()
	return pgptest.Key(t, pgptest.Options{Name: "klpkit selfrpm test", RSA: true, Created: testTime})
}
