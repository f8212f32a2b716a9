// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/klpkit/klpkit/rpmpkg"
)

// rpmPassphraseEnv holds the RPM signing key's passphrase when no
// --rpm-sign-passphrase-file is given.
const rpmPassphraseEnv = "KLPKIT_RPM_SIGN_PASSPHRASE"

// rpmSignUsage documents --rpm-sign-key and --rpm-sign-passphrase-file.
const rpmSignUsage = `  --rpm-sign-key <file>    sign the RPM with this OpenPGP private key (armored
                           or binary); a passphrase comes from
                           --rpm-sign-passphrase-file <file> (first line),
                           else from $` + rpmPassphraseEnv + `
`

// rpmSigning reads and checks the RPM signing key before anything is
// built: a wrong passphrase must not cost a kernel build.
func (a *app) rpmSigning(o *options) (key, passphrase []byte, err error) {
	if o.rpmSignKey == "" {
		if o.rpmPassphraseFile != "" {
			return nil, nil, errors.New("--rpm-sign-passphrase-file needs --rpm-sign-key")
		}
		return nil, nil, nil
	}
	if !o.rpm {
		return nil, nil, errors.New("--rpm-sign-key needs --rpm")
	}
	if key, err = readInput("RPM signing key file", o.rpmSignKey); err != nil {
		return nil, nil, err
	}
	if o.rpmPassphraseFile != "" {
		if passphrase, err = rpmpkg.ReadPassphraseFile(o.rpmPassphraseFile); err != nil {
			return nil, nil, fmt.Errorf("RPM signing %w", err)
		}
	} else if p := a.getenv(rpmPassphraseEnv); p != "" {
		passphrase = []byte(p)
	}
	if _, err := rpmpkg.NewOpenPGPSigner(bytes.NewReader(key), &rpmpkg.SignerOptions{Passphrase: passphrase}); err != nil {
		return nil, nil, fmt.Errorf("RPM signing key %s: %w", o.rpmSignKey, err)
	}
	return key, passphrase, nil
}

// rpmSigner signs the job's RPM, at its build time so that a signed
// package stays reproducible; nil without --rpm-sign-key.
func (j *job) rpmSigner(buildTime time.Time) (rpmpkg.Signer, error) {
	if j.rpmSignKey == nil {
		return nil, nil
	}
	return rpmpkg.NewOpenPGPSigner(bytes.NewReader(j.rpmSignKey), &rpmpkg.SignerOptions{Passphrase: j.rpmPassphrase, Time: buildTime})
}
