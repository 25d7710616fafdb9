package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ReadmeExample returns the fenced code block that follows the marker
// "<!-- example: name -->" in the repository's README.md. The end-to-end
// tests run the README's configurations themselves, so what a user copies
// is what was tested.
func ReadmeExample(name string) (string, error) {
	root, err := repoDir()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		return "", err
	}
	return exampleBlock(string(b), name)
}

// exampleBlock finds the block marked name in a Markdown text.
func exampleBlock(markdown, name string) (string, error) {
	marker := "<!-- example: " + name + " -->"
	i := strings.Index(markdown, marker)
	if i < 0 {
		return "", fmt.Errorf("README.md has no %q", marker)
	}
	rest := markdown[i+len(marker):]
	open := strings.Index(rest, "```")
	if open < 0 {
		return "", fmt.Errorf("README.md: no code block after %q", marker)
	}
	rest = rest[open+3:]
	rest = rest[strings.IndexByte(rest, '\n')+1:] // the info string ("yaml")
	end := strings.Index(rest, "```")
	if end < 0 {
		return "", fmt.Errorf("README.md: unterminated code block after %q", marker)
	}
	return rest[:end], nil
}

// Substitute replaces the README's placeholder values (example hosts, URLs
// and secrets) with a test's real ones, longest placeholder first so that
// one placeholder inside another is not replaced half-way. It fails when a
// placeholder is missing, so a README edit cannot silently skip a value.
func Substitute(text string, values map[string]string) (string, error) {
	var keys []string
	for k := range values {
		if !strings.Contains(text, k) {
			return "", fmt.Errorf("example lacks placeholder %q", k)
		}
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && len(keys[j]) > len(keys[j-1]); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	pairs := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		pairs = append(pairs, k, values[k])
	}
	return strings.NewReplacer(pairs...).Replace(text), nil
}
