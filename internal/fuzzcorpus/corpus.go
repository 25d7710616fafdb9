package fuzzcorpus

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// header is the first line of every corpus file.
const header = "go test fuzz v1"

// ErrFormat is returned for a file that is not a corpus file, or holds a
// value of a type Read does not know.
var ErrFormat = errors.New("fuzzcorpus: malformed corpus file")

// Entry is one corpus file: its name and the fuzz target's arguments, in
// order, as string, []byte, bool, int, int64, uint8, uint16, uint32 or
// uint64 values.
type Entry struct {
	Name   string
	Values []any
}

// Read returns the entries of testdata/fuzz/<target> under dir (a package
// directory; "." in a test), sorted by file name. A target without a corpus
// directory has no entries and no error.
func Read(dir, target string) ([]Entry, error) {
	root := filepath.Join(dir, "testdata", "fuzz", target)
	files, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for _, f := range files {
		if !f.IsDir() {
			names = append(names, f.Name())
		}
	}
	sort.Strings(names)
	entries := make([]Entry, 0, len(names))
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			return nil, err
		}
		values, err := Parse(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(root, name), err)
		}
		entries = append(entries, Entry{Name: name, Values: values})
	}
	return entries, nil
}

// Seeds returns the entries of target's corpus in the package directory of
// the running test, failing tb when they cannot be read or there are none:
// a corpus that went missing would leave its seed test empty.
func Seeds(tb testing.TB, target string) []Entry {
	tb.Helper()
	entries, err := Read(".", target)
	if err != nil {
		tb.Fatal(err)
	}
	if len(entries) == 0 {
		tb.Fatalf("no corpus files in testdata/fuzz/%s", target)
	}
	return entries
}

// Parse returns the values of one corpus file's text: a "go test fuzz v1"
// line, then one line per argument such as string("a\n") or uint16(7).
func Parse(text string) ([]any, error) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) != header {
		return nil, fmt.Errorf("%w: no %q line", ErrFormat, header)
	}
	var values []any
	for i := 1; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" {
			continue
		}
		v, err := parseValue(line)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrFormat, i+1, err)
		}
		values = append(values, v)
	}
	return values, nil
}

// parseValue parses one line such as string("x") or int(-3).
func parseValue(line string) (any, error) {
	open := strings.IndexByte(line, '(')
	if open < 0 || !strings.HasSuffix(line, ")") {
		return nil, fmt.Errorf("%q is not type(value)", line)
	}
	kind, arg := line[:open], line[open+1:len(line)-1]
	switch kind {
	case "string", "[]byte":
		s, err := strconv.Unquote(arg)
		if err != nil {
			return nil, fmt.Errorf("%s value %q: %v", kind, arg, err)
		}
		if kind == "string" {
			return s, nil
		}
		return []byte(s), nil
	case "bool":
		return strconv.ParseBool(arg)
	case "int", "int64":
		n, err := strconv.ParseInt(arg, 0, 64)
		if err != nil {
			return nil, err
		}
		if kind == "int" {
			return int(n), nil
		}
		return n, nil
	case "uint8", "byte", "uint16", "uint32", "uint64":
		bits := map[string]int{"uint8": 8, "byte": 8, "uint16": 16, "uint32": 32, "uint64": 64}[kind]
		n, err := parseUint(arg, bits)
		if err != nil {
			return nil, err
		}
		switch bits {
		case 8:
			return uint8(n), nil
		case 16:
			return uint16(n), nil
		case 32:
			return uint32(n), nil
		}
		return n, nil
	}
	return nil, fmt.Errorf("unsupported type %q", kind)
}

// parseUint parses an unsigned number, or a quoted character as Go writes
// byte values ('a', '\x00').
func parseUint(arg string, bits int) (uint64, error) {
	if len(arg) >= 3 && arg[0] == '\'' && arg[len(arg)-1] == '\'' {
		v, _, tail, err := strconv.UnquoteChar(arg[1:len(arg)-1], '\'')
		if err != nil || tail != "" || v > 0xff {
			return 0, fmt.Errorf("%q is not one byte", arg)
		}
		return uint64(v), nil
	}
	return strconv.ParseUint(arg, 0, bits)
}
