package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}

// run is the command: args are its own arguments, env the environment.
func run(args, env []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gatehouse-convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "file", "output: file (file provider YAML), labels (Docker labels) or kubernetes (Middleware)")
	name := fs.String("name", "gatehouse", "the middleware's name")
	namespace := fs.String("namespace", "", "the Kubernetes Middleware's namespace")
	cfgPath := fs.String("config", "", "oauth2-proxy's cfg file")
	envFile := fs.String("env-file", "", "a file of OAUTH2_PROXY_*=value lines (as Docker's --env-file)")
	argsFile := fs.String("args", "", "read oauth2-proxy's flags from this file, - for stdin: a command line, or a compose/Kubernetes command list")
	arh := fs.String("auth-response-headers", "", "the forwardAuth middleware's authResponseHeaders, comma-separated")
	authTarget := fs.Bool("auth-target", false, "Gatehouse will answer a proxy's auth subrequests (ForwardAuth, nginx auth_request) as oauth2-proxy did, instead of sitting on the app's router: keep upstream static:// and reverseProxy")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch *format {
	case "file", "labels", "kubernetes":
	default:
		return fmt.Errorf("convert: -format %q: want file, labels or kubernetes", *format)
	}

	proxyArgs := fs.Args()
	if *argsFile != "" {
		r, closer, err := open(*argsFile, stdin)
		if err != nil {
			return err
		}
		more, err := readArgs(r)
		closer()
		if err != nil {
			return err
		}
		proxyArgs = append(more, proxyArgs...)
	}
	v := newValues()
	if err := parseFlags(proxyArgs, v); err != nil {
		return err
	}
	if *envFile != "" {
		r, closer, err := open(*envFile, stdin)
		if err != nil {
			return err
		}
		more, err := readEnvFile(r)
		closer()
		if err != nil {
			return err
		}
		env = append(append([]string(nil), env...), more...)
	}
	parseEnv(env, v)
	path := *cfgPath
	if path == "" && len(v.raw["config"]) > 0 {
		path = v.raw["config"][len(v.raw["config"])-1]
	}
	if path != "" {
		r, closer, err := open(path, stdin)
		if err != nil {
			return err
		}
		err = parseCfg(r, v)
		closer()
		if err != nil {
			return err
		}
	}

	res := convert(v, splitList([]string{*arh}), *authTarget)
	var err error
	switch *format {
	case "file":
		err = writeFile(stdout, *name, res.Options)
	case "kubernetes":
		err = writeKubernetes(stdout, *name, *namespace, res.Options)
	case "labels":
		var bad []string
		bad, err = writeLabels(stdout, *name, res.Options)
		for _, k := range bad {
			res.Unsupported = append(res.Unsupported, k+": an entry holds a comma, which a Docker label cannot carry; use the file provider or Kubernetes for it")
		}
	}
	if err != nil {
		return err
	}
	return writeReport(stderr, *name, *format, *authTarget, res)
}

// open opens path, or returns stdin for "-".
func open(path string, stdin io.Reader) (io.Reader, func(), error) {
	if path == "-" {
		return stdin, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("convert: %v", err)
	}
	return f, func() { f.Close() }, nil
}

// writeReport writes what the conversion did and what is left to do.
func writeReport(w io.Writer, name, format string, authTarget bool, r *Result) error {
	prefix := "/oauth2"
	if p, ok := r.Options["proxyPrefix"].(string); ok {
		prefix = p
	}
	var b strings.Builder
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(&b, "# %s\n", title)
		for _, l := range lines {
			fmt.Fprintf(&b, "#   %s\n", l)
		}
	}
	section(fmt.Sprintf("Carried over (%d):", len(r.Carried)), r.Carried)
	section(fmt.Sprintf("Handled by Traefik or always on in Gatehouse (%d):", len(r.Traefik)), r.Traefik)
	section(fmt.Sprintf("Cannot be carried over (%d):", len(r.Unsupported)), r.Unsupported)
	section("Defaults that differ, and things to check:", r.Notes)
	remove := []string{
		"the oauth2-proxy service (container, Deployment) and its Traefik service",
		fmt.Sprintf("the router that sends %s/ to oauth2-proxy (e.g. PathPrefix(`%s/`))", prefix, prefix),
		"the forwardAuth middleware whose address is oauth2-proxy's " + prefix + "/auth",
		"the errors middleware that turns 401 into " + prefix + "/sign_in",
		fmt.Sprintf("then put the %q middleware on the app's router, which must also match %s/* on the same host", name, prefix),
	}
	if authTarget {
		remove = []string{
			"the oauth2-proxy service (container, Deployment)",
			fmt.Sprintf("point the forwardAuth middleware (or nginx auth_request) at a router that uses the %q middleware; keep the %s/ router, now to that router's service", name, prefix),
		}
	}
	section("Can be removed from the Traefik configuration:", remove)
	if format == "labels" {
		b.WriteString("# Labels are written for Compose ($ doubled as $$).\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
