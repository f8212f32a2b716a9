// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"bytes"
	"fmt"
	"strings"
)

// ModInfo is a module's .modinfo section: NUL-separated tag=value strings.
type ModInfo struct {
	Name        string   `json:"name"`
	Vermagic    string   `json:"vermagic"` // exactly as stored, trailing space included
	Description string   `json:"description"`
	License     string   `json:"license"`
	SrcVersion  string   `json:"src_version"`
	Version     string   `json:"version"`
	Author      string   `json:"author"`
	Livepatch   bool     `json:"livepatch"` // livepatch=Y
	Retpoline   bool     `json:"retpoline"` // retpoline=Y
	InTree      bool     `json:"in_tree"`   // intree=Y
	Depends     []string `json:"depends"`
	// Fields holds every tag=value in file order, repeated tags included.
	Fields []Field `json:"fields"`
}

// Field is one tag=value entry of .modinfo.
type Field struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Get returns the first value of key, and whether it exists.
func (m *ModInfo) Get(key string) (string, bool) {
	for _, f := range m.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// Release is the kernel release the module was built for: the vermagic's
// first word.
func (m *ModInfo) Release() string {
	f := strings.Fields(m.Vermagic)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// ParseModInfo parses the raw contents of a .modinfo section. Empty strings
// (NUL padding) are skipped; an entry without '=', with an empty or
// non-printable key is an error naming
// its offset.
func ParseModInfo(data []byte) (*ModInfo, error) {
	mi := &ModInfo{}
	off := 0
	for len(data) > 0 {
		entry := data
		next := len(data)
		if i := bytes.IndexByte(data, 0); i >= 0 {
			entry, next = data[:i], i+1
		}
		data = data[next:]
		start := off
		off += next
		if len(entry) == 0 {
			continue
		}
		eq := bytes.IndexByte(entry, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("modinfo: entry at offset %d (%q) is not tag=value", start, clip(entry))
		}
		key := entry[:eq]
		for _, c := range key {
			if c <= ' ' || c >= 0x7f {
				return nil, fmt.Errorf("modinfo: entry at offset %d: bad character %q in tag %q", start, c, clip(key))
			}
		}
		mi.add(string(key), string(entry[eq+1:]))
	}
	return mi, nil
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

func (m *ModInfo) add(key, value string) {
	m.Fields = append(m.Fields, Field{key, value})
	first := func(dst *string) {
		if *dst == "" {
			*dst = value
		}
	}
	switch key {
	case "name":
		first(&m.Name)
	case "vermagic":
		first(&m.Vermagic)
	case "description":
		first(&m.Description)
	case "license":
		first(&m.License)
	case "srcversion":
		first(&m.SrcVersion)
	case "version":
		first(&m.Version)
	case "author":
		first(&m.Author)
	case "livepatch":
		m.Livepatch = m.Livepatch || value == "Y"
	case "retpoline":
		m.Retpoline = m.Retpoline || value == "Y"
	case "intree":
		m.InTree = m.InTree || value == "Y"
	case "depends":
		for _, d := range strings.Split(value, ",") {
			if d != "" {
				m.Depends = append(m.Depends, d)
			}
		}
	}
}
