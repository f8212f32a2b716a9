// SPDX-License-Identifier: Apache-2.0

//go:build linux

package photonlab_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/photonlab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/kmod/modsign"
	"github.com/klpkit/klpkit/photon"
)

// signedPatch is the livepatch of the signature test: e2e's v1 under its
// own name.
var signedPatch = e2ePatch{Name: "klp_photonlab_signed", Patch: "v1-proc-version.patch", Version: "photonlab-livepatch: v1"}

// TestSignedLivepatchOnEnforcingKernel boots the generic Photon lab kernel,
// which has the lab certificate in its built-in keyring, with
// module.sig_enforce=1: the livepatch auto_livepatch signed with the lab
// key (--sign-key, --sign-cert) loads and changes /proc/version; the same
// module unsigned, and signed with a key the kernel does not know, are
// refused with kpatch's explanation; kpatch info shows the signer and
// verifies it against the lab certificate. One boot for all of it.
func TestSignedLivepatchOnEnforcingKernel(t *testing.T) {
	vmtest.Run(t, vmtest.Config{
		Kernel:  func(t *testing.T, l *lab.Lab) string { return signingLab(t, l).Vmlinuz },
		Append:  "module.sig_enforce=1",
		Timeout: 5 * time.Minute,
		Setup:   func(t *testing.T, l *lab.Lab) []vmtest.File { return signingSetup(t, signingLab(t, l)) },
	}, signingGuest)
}

// signingLab is the generic flavor of the Photon lab, which must have been
// built with the lab signing key.
func signingLab(t *testing.T, l *lab.Lab) *photonlab.Lab {
	t.Helper()
	pl := requireFlavor(t, l, photon.Generic)
	if pl.SigningKey == "" || pl.SigningCert == "" {
		t.Fatalf("the Photon lab in %s was built before lab signing (no signing_key in its manifest): rebuild it with `make lab-photon`", pl.Dir)
	}
	return pl
}

// signingSetup (host) builds the signed livepatch with auto_livepatch and
// makes its unsigned and wrongly signed copies.
func signingSetup(t *testing.T, pl *photonlab.Lab) []vmtest.File {
	root, err := filepath.Abs("../../..")
	require.NoError(t, err)
	tools := t.TempDir()
	autoLivepatch := vmtest.BuildStatic(t, root, "./examples/auto_livepatch", filepath.Join(tools, "auto_livepatch"))
	kpatch := vmtest.BuildStatic(t, root, "./examples/kpatch", filepath.Join(tools, "kpatch"))

	srv := httptest.NewServer(http.FileServer(http.Dir(pl.RepoDir)))
	defer srv.Close()
	out := t.TempDir()
	start := time.Now()
	cmd := exec.CommandContext(t.Context(), autoLivepatch, "-k", pl.KernelRelease,
		"-p", filepath.Join(root, "testdata/photonlab/livepatch", signedPatch.Patch), "-n", signedPatch.Name, "-o", out,
		"--mirror", srv.URL, "--cache", t.TempDir(), "--work", openWorkDir(t),
		"--make-arg", "CC=gcc-12", "--make-arg", "HOSTCC=gcc-12",
		"--sign-key", pl.SigningKey, "--sign-cert", pl.SigningCert, "--sign-hash", "sha512")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Run(), "auto_livepatch:\n%s", log.String())
	t.Logf("auto_livepatch built and signed %s in %s", signedPatch.Name, time.Since(start).Round(100*time.Millisecond))

	signed, err := os.ReadFile(filepath.Join(out, signedPatch.Name+".ko"))
	require.NoError(t, err)
	labCerts, err := modsign.LoadCertificates(pl.SigningCert)
	require.NoError(t, err)
	sig, by, err := modsign.Verify(signed, labCerts)
	require.NoError(t, err, "auto_livepatch signs with the lab key")
	require.Equal(t, "sha512", sig.HashName())
	require.Equal(t, photonlab.SigningCommonName, by.Subject.CommonName)

	unsigned, err := modsign.Strip(signed)
	require.NoError(t, err)
	otherSigned, err := otherSigner(t, crypto.SHA512).Sign(signed)
	require.NoError(t, err, "signing again replaces the signature")
	_, _, err = modsign.Verify(otherSigned, labCerts)
	require.ErrorIs(t, err, modsign.ErrUnknownKey, "the other key is not the lab's")

	return []vmtest.File{
		{Guest: "/usr/sbin/kpatch", Host: kpatch, Mode: 0o755},
		{Guest: "/lab-cert.pem", Host: pl.SigningCert},
		{Guest: "/klp/signed.ko", Data: signed},
		{Guest: "/klp/unsigned.ko", Data: unsigned},
		{Guest: "/klp/other.ko", Data: otherSigned},
	}
}

// otherSigner is a key the lab kernel has never seen, with hash h (the
// kernel must have the hash built in, or it refuses the module for that:
// "unsupported crypto", not "unavailable key").
func otherSigner(t *testing.T, h crypto.Hash) *modsign.Signer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "untrusted test key"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), SubjectKeyId: []byte{0x42}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &modsign.Signer{Key: key, Cert: cert, Hash: h}
}

// signingGuest (in the VM) tries the refused modules first, then the
// signed one.
func signingGuest(t *testing.T) {
	requireInFile(t, "/proc/cmdline", "module.sig_enforce=1")
	requireInFile(t, "/sys/module/module/parameters/sig_enforce", "Y")
	dmesg, err := vmtest.Dmesg()
	require.NoError(t, err)
	for _, line := range strings.Split(dmesg, "\n") {
		if strings.Contains(line, "X.509") {
			t.Logf("dmesg: %s", line)
		}
	}
	require.Regexp(t, `Loaded X\.509 cert '[^']*`+photonlab.SigningCommonName, dmesg, "the lab certificate is in the built-in keyring")
	requireRefused(t)

	out, err := exec.Command("kpatch", "info", "/klp/signed.ko").CombinedOutput()
	t.Logf("kpatch info:\n%s", out)
	require.NoError(t, err)
	require.Contains(t, string(out), "signer:         "+photonlab.SigningCommonName+"\n")
	require.Contains(t, string(out), "sig_hashalgo:   sha512\n")
	out, err = exec.Command("kpatch", "info", "--cert", "/lab-cert.pem", "/klp/signed.ko").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "sig_verified:   yes, by ")

	out, err = exec.Command("kpatch", "load", "/klp/signed.ko").CombinedOutput()
	t.Logf("kpatch load /klp/signed.ko:\n%s", out)
	if err != nil {
		// The kernel's own words and its crypto instances say which step
		// of the check or of the load refused it.
		if dmesg, derr := vmtest.Dmesg(); derr == nil {
			t.Logf("dmesg:\n%s", dmesg)
		}
		if crypto, cerr := os.ReadFile("/proc/crypto"); cerr == nil {
			t.Logf("/proc/crypto:\n%s", crypto)
		}
	}
	require.NoError(t, err)
	requireLive(t, signedPatch)
	tainted, err := os.ReadFile("/proc/sys/kernel/tainted")
	require.NoError(t, err)
	taint, err := strconv.ParseUint(strings.TrimSpace(string(tainted)), 10, 64)
	require.NoError(t, err)
	require.Zero(t, taint&(1<<13), "TAINT_UNSIGNED_MODULE: the kernel verified the signature (taint %d)", taint)
}

// requireRefused: the unsigned and the wrongly signed module are refused,
// kpatch says why, the kernel's log gives its reason, nothing changed; and
// kpatch info names the stranger's key and fails to verify it.
func requireRefused(t *testing.T) {
	t.Helper()
	for _, c := range []struct{ file, dmesg string }{
		{"/klp/unsigned.ko", "Loading of unsigned module is rejected"},
		{"/klp/other.ko", "Loading of module with unavailable key is rejected"},
	} {
		out, err := exec.Command("kpatch", "load", c.file).CombinedOutput()
		t.Logf("kpatch load %s:\n%s", c.file, out)
		require.Error(t, err, "kpatch load %s must fail", c.file)
		require.Contains(t, string(out), "the kernel requires signed modules", c.file)
		dmesg, err := vmtest.Dmesg()
		require.NoError(t, err)
		require.Contains(t, dmesg, c.dmesg, "the kernel's reason for %s", c.file)
		requireGone(t, signedPatch.Name)
		requireNotInFile(t, "/proc/version", signedPatch.Version)
	}
	out, err := exec.Command("kpatch", "info", "--cert", "/lab-cert.pem", "/klp/other.ko").CombinedOutput()
	require.Error(t, err, "%s", out)
	require.Contains(t, string(out), "signer:         untrusted test key\n")
	require.Contains(t, string(out), "sig_verified:   no\n")
}
