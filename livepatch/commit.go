package livepatch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// commit writes the staged files so that the tree ends up either fully
// patched or unchanged: new contents go to temp files beside their targets,
// originals are moved aside, temps are renamed into place, and any failure
// undoes the steps done so far.
func commit(t *memTree, paths []string) (err error) {
	var undo []func() error
	var cleanup []string
	kept := map[string]bool{} // backups a failed rollback could not restore
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				if uerr := undo[i](); uerr != nil {
					err = errors.Join(err, fmt.Errorf("rollback: %w", uerr))
				}
			}
		}
		for _, p := range cleanup {
			if !kept[p] {
				_ = os.Remove(p)
			}
		}
	}()

	temps := map[string]string{}
	for _, rel := range paths {
		m := t.files[rel]
		if !m.exists {
			continue
		}
		dir := filepath.Dir(t.hostPath(rel))
		created, err := mkdirAll(dir)
		if err != nil {
			return fmt.Errorf("create directory for %s: %w", rel, err)
		}
		for _, d := range created {
			undo = append(undo, func() error { return os.Remove(d) })
		}
		tmp, err := writeTemp(dir, m)
		if err != nil {
			return fmt.Errorf("stage %s: %w", rel, err)
		}
		cleanup = append(cleanup, tmp)
		temps[rel] = tmp
	}
	for _, rel := range paths {
		dst := t.hostPath(rel)
		if t.pristine[rel].exists {
			backup := freeName(dst + ".klpkit-orig")
			if err := t.rename(dst, backup); err != nil {
				return fmt.Errorf("move %s aside: %w", rel, err)
			}
			cleanup = append(cleanup, backup)
			undo = append(undo, func() error {
				if err := t.rename(backup, dst); err != nil {
					kept[backup] = true // the only copy of the original now
					return fmt.Errorf("restore %s (the original is kept as %s): %w", rel, backup, err)
				}
				return nil
			})
		}
		if tmp, ok := temps[rel]; ok {
			if err := t.rename(tmp, dst); err != nil {
				return fmt.Errorf("write %s: %w", rel, err)
			}
			undo = append(undo, func() error { return os.Remove(dst) })
		}
	}
	return nil
}

func writeTemp(dir string, m *memFile) (string, error) {
	f, err := os.CreateTemp(dir, ".klpkit-new-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	_, werr := f.Write(m.content())
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(name, m.mode)); err != nil {
		_ = os.Remove(name)
		return "", err
	}
	return name, nil
}

// mkdirAll creates dir and returns the directories it created, outermost
// first, so that a rollback can remove them.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for i, j := 0, len(missing)-1; i < j; i, j = i+1, j-1 {
		missing[i], missing[j] = missing[j], missing[i]
	}
	return missing, nil
}

// freeName returns base, or base with a number, naming nothing yet.
func freeName(base string) string {
	name := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s.%d", base, i)
	}
}
