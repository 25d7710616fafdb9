package harness

import (
	"fmt"
	"path/filepath"
)

// staticConfig returns Traefik's static configuration for a working
// directory dir: the entry point "web" on webAddr; ping and the API on the
// entry point "traefik" at adminAddr; the file provider watching dir/dynamic;
// the plugin at dir/plugins-local declared under Alias, with a plugin that
// fails to load stopping Traefik; DEBUG logs (where a plugin's stdout goes)
// and access logs in files under dir.
func staticConfig(dir, webAddr, adminAddr, moduleName string) string {
	return fmt.Sprintf(`# Written by the e2e harness.
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
`, webAddr, adminAddr, filepath.Join(dir, "dynamic"), Alias, moduleName,
		filepath.Join(dir, "traefik.log"), filepath.Join(dir, "access.log"))
}
