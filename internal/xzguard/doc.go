// SPDX-License-Identifier: Apache-2.0

// Package xzguard decodes untrusted .xz and legacy .lzma streams with a
// bound on the memory the decoder may allocate.
//
// github.com/ulikunitz/xz allocates the LZMA2 dictionary a block header asks
// for before it decodes a byte, with no cap, so a few hundred hostile bytes
// can make it allocate 4 GiB. The guard sits between the input and the
// decoder and checks the container as the bytes pass through: stream
// headers, every block header (refusing a dictionary above
// Options.MaxDict), the LZMA2 chunk headers inside each block, block
// padding and checks, the index, the footer and stream padding. A structure
// is handed on only once it is fully checked, so the decoder never sees a
// block header the guard has not approved. The guard needs no seeking and
// never changes the bytes of a valid stream.
//
// Errors are *Error values that wrap ErrFormat, ErrLimit or ErrUnsupported
// and say where the problem is ("xz block 3 at byte 4096: dictionary of
// 1 GiB exceeds the 64 MiB limit"). Callers add the input's name.
package xzguard
