// SPDX-License-Identifier: Apache-2.0

package xzguard_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klpkit/klpkit/internal/xzguard"
	"github.com/ulikunitz/xz"
)

func Example() {
	var compressed bytes.Buffer
	w, _ := xz.NewWriter(&compressed)
	_, _ = io.WriteString(w, "hello from a guarded stream\n")
	_ = w.Close()

	r, err := xzguard.NewXZReader(&compressed, &xzguard.Options{MaxDict: 16 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := io.ReadAll(r)
	if errors.Is(err, xzguard.ErrLimit) {
		fmt.Println("refused:", err)
		return
	}
	fmt.Print(string(out))
	// Output: hello from a guarded stream
}
