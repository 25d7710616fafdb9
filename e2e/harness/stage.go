package harness

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Stage copies the plugin module at src into dir the way Traefik's local
// plugin loader reads it: dir/plugins-local/src/<moduleName>/. It copies
// go.mod, go.sum, .traefik.yml, vendor/ and every directory holding Go files;
// it leaves out .git, the e2e module, other hidden directories and testdata.
// A missing go.sum, .traefik.yml or vendor/ is left missing (Traefik then
// reports what it lacks).
func Stage(src, dir, moduleName string) error {
	dst := filepath.Join(dir, "plugins-local", "src", filepath.FromSlash(moduleName))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("harness: stage: %w", err)
	}
	for _, name := range []string{"go.mod", "go.sum", ".traefik.yml"} {
		err := copyFile(filepath.Join(src, name), filepath.Join(dst, name))
		if err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("harness: stage %s: %w", name, err)
		}
	}
	noSkip := func(string) bool { return false }
	if err := copyTree(filepath.Join(src, "vendor"), filepath.Join(dst, "vendor"), noSkip); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("harness: stage vendor: %w", err)
	}
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if rel != "." && skipDir(d.Name()) {
			return filepath.SkipDir
		}
		return copyGoPackage(path, filepath.Join(dst, rel))
	})
	if err != nil {
		return fmt.Errorf("harness: stage: %w", err)
	}
	return nil
}

// skipDir reports whether a directory of the plugin module is not part of
// what a user would install as the plugin.
func skipDir(name string) bool {
	switch name {
	case "e2e", "vendor", "testdata":
		return true
	}
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// copyGoPackage copies the regular files of src into dst when src holds at
// least one Go file; it does not descend into subdirectories.
func copyGoPackage(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	hasGo := false
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".go") {
			hasGo = true
			break
		}
	}
	if !hasGo {
		return nil
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// CopyModule copies the plugin module at src, tests and testdata included,
// into dst, leaving out .git and the e2e module: a copy to change and test
// without touching the working tree.
func CopyModule(src, dst string) error {
	return copyTree(src, dst, func(rel string) bool { return rel == ".git" || rel == "e2e" })
}

// copyTree copies the directories and regular files under src into dst,
// but for the directories whose path relative to src skip reports.
func copyTree(src, dst string, skip func(rel string) bool) error {
	if _, err := os.Stat(src); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir() && skip(rel):
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			return copyFile(path, target)
		}
		return nil
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
