// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package main

import "errors"

// hostRelease: there is no running Photon kernel to ask; give -k.
func hostRelease() (string, error) { return "", errors.New("not running Linux") }
