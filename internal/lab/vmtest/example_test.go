// SPDX-License-Identifier: Apache-2.0

package vmtest_test

import (
	"os"
	"strings"
	"testing"

	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// A VM test: the second function runs inside the guest as PID 1.
func ExampleRun() {
	test := func(t *testing.T) {
		vmtest.Run(t, vmtest.Config{
			Files: []vmtest.File{{Guest: "/etc/greeting", Data: []byte("hello")}},
		}, func(t *testing.T) {
			b, err := os.ReadFile("/etc/greeting")
			if err != nil || string(b) != "hello" {
				t.Fatalf("greeting: %q, %v", b, err)
			}
			cmdline, _ := os.ReadFile("/proc/cmdline")
			if !strings.Contains(string(cmdline), "console=ttyS0") {
				t.Errorf("unexpected /proc/cmdline %q", cmdline)
			}
		})
	}
	_ = test // in a _test.go file: func TestGreeting(t *testing.T) { ... }
}
