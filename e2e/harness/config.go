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
// fails to load stopping Traefik; DEBUG logs (where a plugin's stdout goes)
// and access logs in files under dir.
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
experimental:
  abortOnPluginFailure: true
  localPlugins:
    %s:
      moduleName: %q
log:
  level: "DEBUG"
  noColor: true
  filePath: %q
accessLog:
  filePath: %q
`, webAddr, adminAddr, filepath.Join(dir, "dynamic"), Alias, opts.ModuleName,
		filepath.Join(dir, "traefik.log"), filepath.Join(dir, "access.log"))
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
	if opts.Metrics {
		static += `metrics:
  prometheus:
    entryPoint: "traefik"
`
	}
	return static
}
