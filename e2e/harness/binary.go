package harness

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// e2eModule is the module path of the nested module holding this package.
const e2eModule = "github.com/gatehouse-auth/gatehouse/e2e"

var binary struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of the Traefik binary the end-to-end tests run.
// The first call in a test process runs e2e/traefik/build.sh, which builds
// Traefik into a cache outside the clone when it is not there yet (several
// minutes the first time on a new machine); its progress goes to stderr.
// Later calls return the same path, or fail the same way.
func Binary(t testing.TB) string {
	t.Helper()
	path, err := binaryPath()
	if err != nil {
		t.Fatalf("harness: Traefik binary: %v", err)
	}
	return path
}

// binaryPath builds the binary once per process and returns its path.
func binaryPath() (string, error) {
	binary.once.Do(func() {
		binary.path, binary.err = buildBinary()
	})
	return binary.path, binary.err
}

func buildBinary() (string, error) {
	return runInstaller(filepath.Join("traefik", "build.sh"))
}

// runInstaller runs the script at path (relative to the e2e module) that
// installs a program into the cache outside the clone, or finds it there,
// and returns the executable path it prints last. The script's progress
// goes to stderr.
func runInstaller(path string) (string, error) {
	dir, err := e2eDir()
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	cmd := exec.Command("bash", filepath.Join(dir, path))
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	bin := strings.TrimSpace(lines[len(lines)-1])
	info, err := os.Stat(bin)
	if err != nil {
		return "", fmt.Errorf("%s printed %q: %w", path, bin, err)
	}
	if info.IsDir() || info.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s printed %q, which is not an executable file", path, bin)
	}
	return bin, nil
}

// ModuleDir returns the root directory of the e2e module, found by walking
// up from the working directory; programs such as the demo keep their files
// under it.
func ModuleDir() (string, error) {
	return e2eDir()
}

// e2eDir returns the root directory of the e2e module, found by walking up
// from the working directory (go test runs a test in its package directory).
func e2eDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if modulePath(filepath.Join(dir, "go.mod")) == e2eModule {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("harness: no go.mod of module " + e2eModule + " above the working directory")
		}
		dir = parent
	}
}

// repoDir returns the root of the plugin module: the parent of the e2e module.
func repoDir() (string, error) {
	dir, err := e2eDir()
	if err != nil {
		return "", err
	}
	return filepath.Dir(dir), nil
}

// modulePath returns the module path declared in the go.mod file at path,
// or "" when the file is missing or declares none.
func modulePath(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`)
		}
	}
	return ""
}
