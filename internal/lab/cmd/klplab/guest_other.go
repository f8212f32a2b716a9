// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package main

import (
	"errors"
	"io"
)

func cmdGuest(_ []string, _ io.Writer) error {
	return errors.New("the guest command only runs in the Linux demo VM")
}

func kpatchGuest(_ []string, w io.Writer) {
	_, _ = io.WriteString(w, "the kpatch guest only runs in the Linux demo VM\n")
}
