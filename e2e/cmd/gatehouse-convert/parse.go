package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// source is where an oauth2-proxy value was read, in rising precedence.
type source int

const (
	fromFile source = iota
	fromEnv
	fromFlag
)

// values holds, for each oauth2-proxy flag name, its raw values from the
// source that wins: flags over environment over cfg file, as oauth2-proxy
// (viper) reads them.
type values struct {
	raw   map[string][]string
	from  map[string]source
	order []string
}

func newValues() *values {
	return &values{raw: map[string][]string{}, from: map[string]source{}}
}

// set records values of flag from src: a higher source replaces a lower
// one, and the same source (repeated flags) appends.
func (v *values) set(flag string, src source, vals ...string) {
	old, seen := v.from[flag]
	switch {
	case !seen:
		v.order = append(v.order, flag)
	case old > src:
		return
	case old < src:
		v.raw[flag] = nil
	}
	v.from[flag] = src
	v.raw[flag] = append(v.raw[flag], vals...)
}

// isBoolFlag reports whether an oauth2-proxy flag takes no value when bare.
func isBoolFlag(flag string) bool {
	if m, ok := lookup(flag); ok {
		return m.kind == boolean
	}
	return false
}

// parseFlags reads oauth2-proxy command-line arguments: --name=value,
// --name value, and a bare --name for booleans (or any flag followed by
// another flag or nothing).
func parseFlags(args []string, v *values) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			if strings.Contains(a, "oauth2-proxy") || strings.Contains(a, "oauth2_proxy") {
				continue // the command itself, pasted with its arguments
			}
			return fmt.Errorf("convert: %q is not a flag", a)
		}
		name := strings.TrimLeft(a, "-")
		value, hasValue := "", false
		if k, val, ok := strings.Cut(name, "="); ok {
			name, value, hasValue = k, val, true
		}
		if !hasValue {
			next := i+1 < len(args) && !strings.HasPrefix(args[i+1], "-")
			if isBoolFlag(name) || !next {
				value = "true"
			} else {
				i++
				value = args[i]
			}
		}
		v.set(name, fromFlag, value)
	}
	return nil
}

// parseEnv reads OAUTH2_PROXY_* variables (NAME=value strings); a variable
// is named after the cfg key.
func parseEnv(env []string, v *values) {
	for _, kv := range env {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, "OAUTH2_PROXY_") {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(k, "OAUTH2_PROXY_"))
		v.set(flagOfKey(key), fromEnv, unquote(strings.TrimSpace(val)))
	}
}

// readEnvFile reads a Docker-style env file: NAME=value lines, # comments.
func readEnvFile(r io.Reader) ([]string, error) {
	var env []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		env = append(env, strings.TrimPrefix(line, "export "))
	}
	return env, sc.Err()
}

// parseCfg reads oauth2-proxy's cfg file: key = value lines, where a value
// is a quoted string, a boolean or number, or a list [ "a", "b" ] that may
// span lines; # starts a comment outside quotes.
func parseCfg(r io.Reader, v *values) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(stripComment(lines[i]))
		if line == "" {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("convert: cfg line %d: want key = value, got %q", i+1, line)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if strings.HasPrefix(val, "[") {
			for !strings.HasSuffix(val, "]") && i+1 < len(lines) {
				i++
				val += " " + strings.TrimSpace(stripComment(lines[i]))
			}
			if !strings.HasSuffix(val, "]") {
				return fmt.Errorf("convert: cfg key %s: unterminated list", key)
			}
			items, err := splitQuoted(strings.TrimSuffix(strings.TrimPrefix(val, "["), "]"), ',')
			if err != nil {
				return fmt.Errorf("convert: cfg key %s: %v", key, err)
			}
			v.set(flagOfKey(key), fromFile, items...)
			continue
		}
		v.set(flagOfKey(key), fromFile, unquote(val))
	}
	return nil
}

// stripComment cuts a line at the first # outside quotes.
func stripComment(line string) string {
	var quote rune
	for i, c := range line {
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && c == '#':
			return line[:i]
		}
	}
	return line
}

// unquote removes one pair of surrounding quotes; in double quotes, \" and
// \\ are unescaped.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return s[1 : len(s)-1]
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		r := strings.NewReplacer(`\"`, `"`, `\\`, `\`)
		return r.Replace(s[1 : len(s)-1])
	}
	return s
}

// splitQuoted splits s at sep outside quotes and returns the unquoted,
// trimmed, non-empty parts. With sep ' ', it splits a shell-like line.
func splitQuoted(s string, sep rune) ([]string, error) {
	var out []string
	var cur strings.Builder
	var quote rune
	started := false
	flush := func() {
		item := cur.String()
		if sep != ' ' {
			item = strings.TrimSpace(item)
		}
		if started && (item != "" || sep == ' ') {
			out = append(out, item)
		}
		cur.Reset()
		started = false
	}
	escaped := false
	for _, c := range s {
		switch {
		case escaped:
			cur.WriteRune(c)
			escaped = false
		case c == '\\' && (quote == '"' || sep == ' ' && quote == 0):
			escaped = true
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote, started = c, true
		case quote == 0 && (c == sep || sep == ' ' && (c == '\t')):
			flush()
		default:
			cur.WriteRune(c)
			started = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote")
	}
	flush()
	return out, nil
}

// readArgs reads oauth2-proxy arguments pasted as text: a shell command line
// (with \ continuations), a compose or Kubernetes list (- --flag=value,
// command: or args: keys), or a flow list ["--a", "--b"].
func readArgs(r io.Reader) ([]string, error) {
	var args []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		line = strings.TrimSpace(strings.TrimSuffix(line, "\\"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, rest, ok := strings.Cut(line, ":"); ok && (k == "command" || k == "args" || k == "entrypoint") {
			line = strings.TrimSpace(rest)
			if line == "" {
				continue
			}
		}
		if strings.HasPrefix(line, "- ") || line == "-" {
			line = strings.TrimSpace(strings.TrimPrefix(line, "-"))
			items, err := splitQuoted(line, '\n')
			if err != nil {
				return nil, fmt.Errorf("convert: %q: %v", line, err)
			}
			args = append(args, items...)
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			items, err := splitQuoted(line[1:len(line)-1], ',')
			if err != nil {
				return nil, fmt.Errorf("convert: %q: %v", line, err)
			}
			args = append(args, items...)
			continue
		}
		items, err := splitQuoted(line, ' ')
		if err != nil {
			return nil, fmt.Errorf("convert: %q: %v", line, err)
		}
		args = append(args, items...)
	}
	return args, sc.Err()
}

// splitList splits each raw value at commas, as oauth2-proxy's list flags
// and environment variables do, and drops empty entries.
func splitList(raw []string) []string {
	var out []string
	for _, r := range raw {
		for _, p := range strings.Split(r, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// secretLen returns the length of the key Gatehouse reads s as: 32 for a
// base64 encoding of 32 bytes, else the length of s itself, taken raw (see
// the plugin's decodeSecret). oauth2-proxy also takes base64 of 16 or 24
// bytes, which Gatehouse reads raw and so refuses unless s is 32 long.
func secretLen(s string) int {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return 32
		}
	}
	return len(s)
}
