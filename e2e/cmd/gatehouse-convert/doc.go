// Command gatehouse-convert turns an oauth2-proxy configuration (its
// command-line flags, cfg file and OAUTH2_PROXY_* environment variables)
// into a Gatehouse middleware for Traefik: file-provider YAML, Docker labels
// or a Kubernetes Middleware on stdout, and on stderr a report of what was
// carried over, what cannot be, the defaults that differ, and which
// oauth2-proxy pieces of the Traefik configuration can be removed.
//
// Usage:
//
//	gatehouse-convert [-format file|labels|kubernetes] [-name gatehouse]
//	    [-namespace ns] [-config oauth2-proxy.cfg] [-env-file f]
//	    [-auth-response-headers H1,H2] [-auth-target] [-args -|file]
//	    [--] [oauth2-proxy flags...]
//
// Flags win over OAUTH2_PROXY_* variables (the process's and -env-file's),
// which win over the cfg file (-config, or oauth2-proxy's own --config), as
// in oauth2-proxy. Secrets are written as given; the report recommends the
// *File options. Without -auth-target the middleware is meant for the app's
// router, so a static upstream and reverseProxy, which only served
// ForwardAuth, are dropped.
//
// It owns no plugin code: it reads the plugin's Config only to order the
// options and, in its tests, to check that every option is covered.
package main
