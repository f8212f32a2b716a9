// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// A kernel that signs its modules with kbuild's own key
// (CONFIG_MODULE_SIG_KEY="certs/signing_key.pem") has certs/Makefile make
// that key with the openssl program. Debian's kernel build set, which the
// 5.10 lab's toolchain root holds, has libssl-dev (for sign-file and
// extract-cert) but not openssl, and the root's package list is the 5.10
// lab's. So for a build in a root without openssl the key is made here, as
// openssl req would make it from certs/x509.genkey (an RSA-4096 key and its
// self-signed sha512 certificate, one PEM file: newSigningKey), with
// x509.genkey copied from the tree first and dated before it, so that
// make finds both up to date.
const (
	buildKeyName    = "certs/signing_key.pem"
	buildGenkeyName = "certs/x509.genkey"
)

// ensureBuildKey writes the module signing key of a build in objDir that
// has none, when make runs where openssl is missing.
func (p *preparer) ensureBuildKey(fb flavorBuild, objDir string) error {
	rk, ok := p.kb.(rootKbuild)
	if !ok || fb.fk.SigningCert == "" || rk.hasOpenSSL() {
		return nil
	}
	key := filepath.Join(objDir, buildKeyName)
	if _, err := os.Stat(key); err == nil {
		return nil
	}
	genkey, err := os.ReadFile(filepath.Join(p.l.Tree, "certs", "default_x509.genkey"))
	if err != nil {
		return fmt.Errorf("module signing key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(key), 0o755); err != nil {
		return err
	}
	now := time.Now()
	pemData, err := newSigningKey(now)
	if err != nil {
		return err
	}
	g := filepath.Join(objDir, buildGenkeyName)
	if err := writeFileAtomic(g, genkey); err != nil {
		return err
	}
	if err := os.Chtimes(g, now.Add(-time.Minute), now.Add(-time.Minute)); err != nil {
		return err
	}
	p.log.Info("made the module signing key (the toolchain root has no openssl)", "key", key)
	return writePrivateFile(key, pemData)
}

// hasOpenSSL reports whether the toolchain root has the openssl program.
func (k rootKbuild) hasOpenSSL() bool {
	root := k.deb.Root()
	if root == nil {
		return true
	}
	_, err := root.LookPath("openssl")
	return err == nil
}
