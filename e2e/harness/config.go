package harness

import (
	"fmt"
	"path/filepath"
	"strings"
)

// staticConfig returns Traefik's static configuration for a working
// directory dir: the entry point "web" on webAddr; ping and the API on the
// entry point "traefik" at adminAddr; the file provider watching dir/dynamic;
// the plugin at dir/plugins-local declared under Alias, with a plugin that
// fails to load stopping Traefik (unless opts.NoPlugin); logs at
// opts.LogLevel (DEBUG by default) and access logs (unless opts.NoAccessLog)
// in files under dir.
func staticConfig(dir, webAddr, adminAddr string, opts Options) string {
	static := fmt.Sprintf(`# Written by the e2e harness.
global:
  checkNewVersion: false
  sendAnonymousUsage: false
entryPoints:
  web:
    address: %q
    transport:
      lifeCycle:
        graceTimeOut: "1s"
  traefik:
    address: %q
    transport:
      lifeCycle:
        graceTimeOut: "1s"
ping:
  entryPoint: "traefik"
api:
  insecure: true
  dashboard: false
providers:
  providersThrottleDuration: "100ms"
  file:
    directory: %q
    watch: true
log:
  level: %q
  noColor: true
  filePath: %q
`, webAddr, adminAddr, filepath.Join(dir, "dynamic"), logLevel(opts), filepath.Join(dir, "traefik.log"))
	if !opts.NoPlugin {
		static += fmt.Sprintf(`experimental:
  abortOnPluginFailure: true
  localPlugins:
    %s:
      moduleName: %q
`, Alias, opts.ModuleName)
		for _, p := range opts.ExtraPlugins {
			static += fmt.Sprintf("    %s:\n      moduleName: %q\n", p.Alias, p.ModuleName)
		}
	}
	if !opts.NoAccessLog {
		static += fmt.Sprintf("accessLog:\n  filePath: %q\n", filepath.Join(dir, "access.log"))
	}
	if opts.DockerEndpoint != "" {
		// The docker provider, under providers: above; it reads labels from
		// the Docker Engine API at the endpoint.
		static = strings.Replace(static, "providers:\n", fmt.Sprintf(`providers:
  docker:
    endpoint: %q
    exposedByDefault: false
    watch: true
`, opts.DockerEndpoint), 1)
	}
	if len(opts.TrustedIPs) > 0 {
		// Under entryPoints.web, after its address.
		web := fmt.Sprintf("  web:\n    address: %q\n", webAddr)
		static = strings.Replace(static, web, fmt.Sprintf("%s    forwardedHeaders:\n      trustedIPs: %s\n", web, yamlList(opts.TrustedIPs)), 1)
	}
	if opts.Metrics || opts.Debug {
		// api.debug serves /debug/pprof on the admin entry point, whose heap
		// profile can force a garbage collection (CollectGarbage).
		static = strings.Replace(static, "api:\n", "api:\n  debug: true\n", 1)
	}
	if opts.Metrics {
		static += `metrics:
  prometheus:
    entryPoint: "traefik"
`
	}
	return static
}

// logLevel returns the log level opts asks for, DEBUG by default.
func logLevel(opts Options) string {
	if opts.LogLevel == "" {
		return "DEBUG"
	}
	return opts.LogLevel
}

// yamlList returns list as a YAML flow sequence of quoted strings.
func yamlList(list []string) string {
	quoted := make([]string, len(list))
	for i, v := range list {
		quoted[i] = fmt.Sprintf("%q", v)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
