// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"strings"
)

// cmdFile is what kbuild recorded about one object in its .<obj>.cmd file:
// the command that built it, its source file and the files it depends on.
type cmdFile struct {
	Object  string     // tree-relative object path, e.g. fs/proc/meminfo.o
	Command string     // the shell command, make escapes removed
	Source  string     // tree-relative source, e.g. fs/proc/meminfo.c
	Deps    []string   // tree-relative (or absolute) files the source includes
	Steps   [][]string // Command split into ';'-separated argument lists
}

// cmdFilePath is where kbuild keeps the .cmd file of obj.
func cmdFilePath(tree, obj string) string {
	dir, file := path.Split(obj)
	return tree + "/" + dir + "." + file + ".cmd"
}

// parseCmdFile parses the .cmd file of obj (tree-relative).
func parseCmdFile(data []byte, obj string) (*cmdFile, error) {
	c := &cmdFile{Object: obj}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	inDeps := false
	for sc.Scan() {
		line := sc.Text()
		if inDeps {
			entry := strings.TrimSpace(strings.TrimSuffix(line, `\`))
			if entry != "" && !strings.HasPrefix(entry, "$(") {
				c.Deps = append(c.Deps, strings.TrimPrefix(entry, "./"))
			}
			inDeps = strings.HasSuffix(line, `\`)
			continue
		}
		key, val, ok := strings.Cut(line, " := ")
		if !ok {
			continue
		}
		switch key {
		case "cmd_" + obj, "savedcmd_" + obj:
			c.Command = unescapeMake(val)
		case "source_" + obj:
			c.Source = strings.TrimPrefix(strings.TrimSpace(val), "./")
		case "deps_" + obj:
			first := strings.TrimSpace(strings.TrimSuffix(val, `\`))
			if first != "" {
				c.Deps = append(c.Deps, strings.TrimPrefix(first, "./"))
			}
			inDeps = strings.HasSuffix(val, `\`)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("kbuild command file of %s: %w", obj, err)
	}
	if c.Command == "" {
		return nil, fmt.Errorf("kbuild command file of %s: no cmd_%s line", obj, obj)
	}
	steps, err := splitShell(c.Command)
	if err != nil {
		return nil, fmt.Errorf("kbuild command of %s: %w", obj, err)
	}
	c.Steps = steps
	return c, nil
}

// readCmdFile reads and parses the .cmd file of obj in tree.
func readCmdFile(tree, obj string) (*cmdFile, error) {
	data, err := os.ReadFile(cmdFilePath(tree, obj))
	if err != nil {
		return nil, err
	}
	return parseCmdFile(data, obj)
}

// unescapeMake undoes the escapes kbuild applies when it writes a command
// into a makefile: "$$" for "$" and "\#" for "#".
func unescapeMake(s string) string {
	s = strings.ReplaceAll(s, "$$", "$")
	return strings.ReplaceAll(s, `\#`, "#")
}

// splitShell splits a simple shell command line into ';'-separated steps of
// words, handling single and double quotes and backslashes. Steps that use
// other shell syntax (if, pipes, redirections) are kept as words; the
// caller decides which steps it runs.
func splitShell(s string) ([][]string, error) {
	var steps [][]string
	var words []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	endStep := func() {
		flush()
		if len(words) > 0 {
			steps = append(steps, words)
			words = nil
		}
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case ch == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated double quote")
			}
			inWord = true
		case ch == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case ch == ';' || ch == '\n':
			endStep()
		case ch == ' ' || ch == '\t':
			flush()
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	endStep()
	return steps, nil
}
