// SPDX-License-Identifier: Apache-2.0

package kmodtest

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// ModuleSpec describes a module file for BuildModule.
type ModuleSpec struct {
	// Name goes into .gnu.linkonce.this_module and modinfo "name".
	Name string
	// Vermagic (default DefaultVermagic).
	Vermagic string
	// Livepatch adds livepatch=Y.
	Livepatch bool
	// Extra modinfo entries, "tag=value".
	Extra []string
	// Signed appends a (fake) module signature trailer.
	Signed bool
}

// BuildModule returns a minimal relocatable ELF64 x86_64 module image with a
// .modinfo section and a .gnu.linkonce.this_module section: enough for kmod
// and for this fake kernel, not for a real one.
func BuildModule(spec ModuleSpec) []byte {
	vermagic := spec.Vermagic
	if vermagic == "" {
		vermagic = DefaultVermagic
	}
	var modinfo bytes.Buffer
	entries := []string{"license=GPL", "name=" + spec.Name, "vermagic=" + vermagic}
	if spec.Livepatch {
		entries = append(entries, "livepatch=Y")
	}
	for _, e := range append(entries, spec.Extra...) {
		modinfo.WriteString(e)
		modinfo.WriteByte(0)
	}
	thisModule := make([]byte, 1024) // struct module; name at offset 24
	copy(thisModule[24:24+55], spec.Name)
	img := buildELF([]section{{".modinfo", modinfo.Bytes()}, {".gnu.linkonce.this_module", thisModule}})
	if spec.Signed {
		img = append(img, []byte("FAKE-PKCS7")...)
		desc := make([]byte, 12)
		desc[2] = 2 // id_type PKCS#7
		binary.BigEndian.PutUint32(desc[8:], 10)
		img = append(img, desc...)
		img = append(img, "~Module signature appended~\n"...)
	}
	return img
}

type section struct {
	name string
	data []byte
}

// buildELF lays out: ELF header, section contents, .shstrtab, section headers.
func buildELF(secs []section) []byte {
	var shstr bytes.Buffer
	shstr.WriteByte(0)
	nameOff := make([]uint32, len(secs)+1)
	for i, s := range secs {
		nameOff[i] = uint32(shstr.Len())
		shstr.WriteString(s.name)
		shstr.WriteByte(0)
	}
	nameOff[len(secs)] = uint32(shstr.Len())
	shstr.WriteString(".shstrtab")
	shstr.WriteByte(0)
	secs = append(secs, section{".shstrtab", shstr.Bytes()})

	var body bytes.Buffer
	body.Write(make([]byte, 64))
	offs := make([]uint64, len(secs))
	for i, s := range secs {
		for body.Len()%8 != 0 {
			body.WriteByte(0)
		}
		offs[i] = uint64(body.Len())
		body.Write(s.data)
	}
	for body.Len()%8 != 0 {
		body.WriteByte(0)
	}
	shoff := uint64(body.Len())
	le := binary.LittleEndian
	body.Write(make([]byte, 64)) // null section header
	for i, s := range secs {
		sh := make([]byte, 64)
		le.PutUint32(sh[0:], nameOff[i])
		typ, flags := uint32(1), uint64(2) // PROGBITS, ALLOC
		if s.name == ".shstrtab" {
			typ, flags = 3, 0 // STRTAB
		}
		le.PutUint32(sh[4:], typ)
		le.PutUint64(sh[8:], flags)
		le.PutUint64(sh[24:], offs[i])
		le.PutUint64(sh[32:], uint64(len(s.data)))
		le.PutUint64(sh[48:], 1)
		body.Write(sh)
	}
	out := body.Bytes()
	copy(out, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	le.PutUint16(out[16:], 1)  // ET_REL
	le.PutUint16(out[18:], 62) // EM_X86_64
	le.PutUint32(out[20:], 1)
	le.PutUint64(out[40:], shoff)
	le.PutUint16(out[52:], 64)
	le.PutUint16(out[58:], 64)
	le.PutUint16(out[60:], uint16(len(secs)+1))
	le.PutUint16(out[62:], uint16(len(secs)))
	return out
}

// Compress compresses a module image the way a file name ending in .gz,
// .xz or .zst says; other names return img unchanged.
func Compress(name string, img []byte) ([]byte, error) {
	var buf bytes.Buffer
	switch {
	case strings.HasSuffix(name, ".gz"):
		w := gzip.NewWriter(&buf)
		w.Write(img)
		if err := w.Close(); err != nil {
			return nil, err
		}
	case strings.HasSuffix(name, ".xz"):
		w, err := xz.NewWriter(&buf)
		if err != nil {
			return nil, err
		}
		w.Write(img)
		if err := w.Close(); err != nil {
			return nil, err
		}
	case strings.HasSuffix(name, ".zst"):
		w, err := zstd.NewWriter(&buf)
		if err != nil {
			return nil, err
		}
		w.Write(img)
		if err := w.Close(); err != nil {
			return nil, err
		}
	default:
		return img, nil
	}
	return buf.Bytes(), nil
}

// WriteModule builds a module, compresses it as file's extension says and
// writes it to dir/file, returning the path.
func WriteModule(dir, file string, spec ModuleSpec) (string, error) {
	data, err := Compress(file, BuildModule(spec))
	if err != nil {
		return "", fmt.Errorf("compress %s: %w", file, err)
	}
	path := filepath.Join(dir, file)
	return path, os.WriteFile(path, data, 0o644)
}
