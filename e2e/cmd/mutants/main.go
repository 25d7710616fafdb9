// Command mutants checks that the plugin's security and timing tests can
// fail: for every mutant in a list, it breaks one guard in a copy of the
// plugin module and runs the tests named for it, which must fail. A mutant
// whose tests still pass is a guard nothing tests; a mutant whose code is no
// longer in the tree is a list to update. Either fails the run.
//
// The list (.ci/mutants.txt) holds blocks such as:
//
//	== skip rules match the raw URI instead of the canonical path
//	file request.go
//	test . TestSkipRulesSeeTheCanonicalPath
//	-	path, ok := o.Path()
//	+	path, ok := o.RequestURI()
//
// "file" is relative to the module root, "test" names a package directory
// and a go test -run pattern, the "-" lines are the code as it is (found
// exactly once in the file) and the "+" lines what replaces it. Lines
// starting with "#" are comments.
//
// Usage:
//
//	cd e2e && go run ./cmd/mutants [-root ..] [-list ../.ci/mutants.txt] [-run pattern]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// mutant is one broken guard and the tests that must notice.
type mutant struct {
	name    string
	line    int // of its "==" line in the list
	file    string
	pkg     string
	run     string
	find    string
	replace string
}

func main() {
	root := flag.String("root", "..", "`directory` of the plugin module")
	list := flag.String("list", "../.ci/mutants.txt", "`file` listing the mutants")
	only := flag.String("run", "", "run only the mutants whose name matches this `regexp`")
	timeout := flag.Duration("timeout", 5*time.Minute, "bound on one mutant's tests")
	flag.Parse()
	mutants, err := parse(*list)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mutants: %v\n", err)
		os.Exit(2)
	}
	var filter *regexp.Regexp
	if *only != "" {
		if filter, err = regexp.Compile(*only); err != nil {
			fmt.Fprintf(os.Stderr, "mutants: -run: %v\n", err)
			os.Exit(2)
		}
	}
	survived := 0
	ran := 0
	for _, m := range mutants {
		if filter != nil && !filter.MatchString(m.name) {
			continue
		}
		ran++
		start := time.Now()
		killed, err := try(*root, m, *timeout)
		switch {
		case err != nil:
			fmt.Printf("ERROR    %s (%s:%d): %v\n", m.name, *list, m.line, err)
			survived++
		case !killed:
			fmt.Printf("SURVIVED %s (%s:%d): go test -run '%s' ./%s passes with the guard broken\n", m.name, *list, m.line, m.run, m.pkg)
			survived++
		default:
			fmt.Printf("killed   %s (%.1fs)\n", m.name, time.Since(start).Seconds())
		}
	}
	fmt.Printf("%d mutants, %d killed, %d not\n", ran, ran-survived, survived)
	if survived > 0 || ran == 0 {
		os.Exit(1)
	}
}

// parse reads the list of mutants.
func parse(path string) ([]mutant, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mutant
	var cur *mutant
	var find, replace []string
	flush := func() error {
		if cur == nil {
			return nil
		}
		if cur.file == "" || cur.run == "" || len(find) == 0 {
			return fmt.Errorf("%s:%d: mutant %q needs a file, a test and \"-\" lines", path, cur.line, cur.name)
		}
		cur.find = strings.Join(find, "\n")
		cur.replace = strings.Join(replace, "\n")
		out = append(out, *cur)
		cur, find, replace = nil, nil, nil
		return nil
	}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "":
		case strings.HasPrefix(line, "== "):
			if err := flush(); err != nil {
				return nil, err
			}
			cur = &mutant{name: strings.TrimPrefix(line, "== "), line: n}
		case cur == nil:
			return nil, fmt.Errorf("%s:%d: %q before the first \"==\" line", path, n, line)
		case strings.HasPrefix(line, "file "):
			cur.file = strings.TrimPrefix(line, "file ")
		case strings.HasPrefix(line, "test "):
			pkg, run, ok := strings.Cut(strings.TrimPrefix(line, "test "), " ")
			if !ok {
				return nil, fmt.Errorf("%s:%d: want \"test <package dir> <pattern>\"", path, n)
			}
			cur.pkg, cur.run = pkg, run
		case strings.HasPrefix(line, "-"):
			find = append(find, line[1:])
		case strings.HasPrefix(line, "+"):
			replace = append(replace, line[1:])
		default:
			return nil, fmt.Errorf("%s:%d: cannot read %q", path, n, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// try applies m to a copy of the module at root and reports whether its
// tests failed.
func try(root string, m mutant, timeout time.Duration) (bool, error) {
	dir, err := os.MkdirTemp("", "gatehouse-mutant-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	if err := harness.CopyModule(root, dir); err != nil {
		return false, err
	}
	target := filepath.Join(dir, m.file)
	src, err := os.ReadFile(target)
	if err != nil {
		return false, err
	}
	if n := strings.Count(string(src), m.find); n != 1 {
		return false, fmt.Errorf("the \"-\" lines occur %d times in %s, want once: update the list", n, m.file)
	}
	mutated := strings.Replace(string(src), m.find, m.replace, 1)
	if err := os.WriteFile(target, []byte(mutated), 0o644); err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-run", m.run, "./"+m.pkg)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return false, fmt.Errorf("tests ran past %v", timeout)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if strings.Contains(string(out), "[build failed]") || strings.Contains(string(out), "[setup failed]") {
			return false, fmt.Errorf("the mutant does not compile:\n%s", out)
		}
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if strings.Contains(string(out), "no tests to run") {
		return false, fmt.Errorf("-run '%s' matches no test in ./%s", m.run, m.pkg)
	}
	return false, nil
}
