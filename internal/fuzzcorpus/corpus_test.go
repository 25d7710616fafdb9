package fuzzcorpus

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []any
	}{
		{"go test fuzz v1\nstring(\"a\\nb\")\n", []any{"a\nb"}},
		{"go test fuzz v1\n[]byte(\"\\x00\\xff\")\nuint16(4000)\nbool(true)\n", []any{[]byte{0, 0xff}, uint16(4000), true}},
		{"go test fuzz v1\nint(-3)\nint64(9)\nuint64(0x10)\nbyte('a')\nbyte('\\xff')\n", []any{-3, int64(9), uint64(16), uint8('a'), uint8(0xff)}},
	} {
		got, err := Parse(tc.text)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) = %#v, %v, want %#v", tc.text, got, err, tc.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, text := range []string{
		"",
		"string(\"a\")\n",
		"go test fuzz v1\nstring(a)\n",
		"go test fuzz v1\nfloat64(1.5)\n",
		"go test fuzz v1\nuint8(300)\n",
		"go test fuzz v1\nstring\n",
	} {
		if got, err := Parse(text); !errors.Is(err, ErrFormat) {
			t.Errorf("Parse(%q) = %#v, %v, want %v", text, got, err, ErrFormat)
		}
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "testdata", "fuzz", "FuzzX")
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(target, "b"), []byte("go test fuzz v1\nstring(\"second\")\n"), 0o644)
	os.WriteFile(filepath.Join(target, "a"), []byte("go test fuzz v1\nstring(\"first\")\n"), 0o644)
	entries, err := Read(dir, "FuzzX")
	if err != nil || len(entries) != 2 || entries[0].Values[0] != "first" || entries[1].Name != "b" {
		t.Errorf("Read = %#v, %v, want the files a and b in order", entries, err)
	}
	if entries, err := Read(dir, "FuzzNone"); err != nil || len(entries) != 0 {
		t.Errorf("Read of a target without a corpus = %#v, %v, want nothing", entries, err)
	}
	os.WriteFile(filepath.Join(target, "c"), []byte("not a corpus file\n"), 0o644)
	if _, err := Read(dir, "FuzzX"); !errors.Is(err, ErrFormat) {
		t.Errorf("Read with a malformed file = %v, want %v", err, ErrFormat)
	}
}
