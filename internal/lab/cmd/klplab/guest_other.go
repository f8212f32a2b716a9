//go:build !linux

package main

import (
	"errors"
	"io"
)

func cmdGuest(_ []string, _ io.Writer) error {
	return errors.New("the guest command only runs in the Linux demo VM")
}
