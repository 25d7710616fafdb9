package e2e

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// dynamic is a dynamic configuration for Traefik's file provider, as the
// scenarios write it: routers on the entry point "web", Gatehouse
// middlewares, and services that each balance to one server.
type dynamic struct {
	routers     []router
	middlewares []middleware
	services    []service
}

// router sends the requests that match rule through middleware, if any, to
// service.
type router struct {
	name string
	// rule is a Traefik rule, such as hostRule("app.localhost").
	rule string
	// priority is the router's priority; 0 leaves Traefik's default.
	priority int
	// middleware names a middleware of the configuration; "" means none.
	middleware string
	// service names a service of the configuration, or one of Traefik's
	// own such as "noop@internal".
	service string
}

// middleware is a Gatehouse middleware: the plugin declared under
// harness.Alias, with options.
type middleware struct {
	name    string
	options options
}

// options are a Gatehouse middleware's options by name. A string value is
// written as a quoted YAML string, as Docker labels deliver every option; a
// []string value as a YAML list.
type options map[string]any

// service is a load balancer with the one server url.
type service struct {
	name, url string
}

// hostRule returns the rule matching requests for host.
func hostRule(host string) string {
	return "Host(`" + host + "`)"
}

// gatehouseOptions returns the options every scenario's middleware has (the
// fake identity provider at issuer, its client "gatehouse", and
// cookieSecret) with those of each of sets added in turn.
func gatehouseOptions(issuer, cookieSecret string, sets ...options) options {
	opts := options{
		"oidcIssuerURL": issuer,
		"clientID":      "gatehouse",
		"cookieSecret":  cookieSecret,
	}
	for _, set := range sets {
		for name, value := range set {
			opts[name] = value
		}
	}
	return opts
}

// singleApp routes the requests matching rule through the middleware
// "gatehouse" with opts to the app at upstream.
func singleApp(rule, upstream string, opts options) dynamic {
	return dynamic{
		routers:     []router{{name: "app", rule: rule, middleware: "gatehouse", service: "app"}},
		middlewares: []middleware{{name: "gatehouse", options: opts}},
		services:    []service{{name: "app", url: upstream}},
	}
}

// yaml returns d as YAML for the file provider, options sorted by name.
func (d dynamic) yaml() string {
	var b strings.Builder
	b.WriteString("http:\n  routers:\n")
	for _, r := range d.routers {
		fmt.Fprintf(&b, "    %s:\n      entryPoints: [\"web\"]\n      rule: %q\n", r.name, r.rule)
		if r.priority != 0 {
			fmt.Fprintf(&b, "      priority: %d\n", r.priority)
		}
		if r.middleware != "" {
			fmt.Fprintf(&b, "      middlewares: [%q]\n", r.middleware)
		}
		fmt.Fprintf(&b, "      service: %q\n", r.service)
	}
	if len(d.middlewares) > 0 {
		b.WriteString("  middlewares:\n")
	}
	for _, m := range d.middlewares {
		fmt.Fprintf(&b, "    %s:\n      plugin:\n        %s:\n", m.name, harness.Alias)
		names := make([]string, 0, len(m.options))
		for name := range m.options {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			fmt.Fprintf(&b, "          %s: %s\n", name, yamlValue(m.options[name]))
		}
	}
	if len(d.services) > 0 {
		b.WriteString("  services:\n")
	}
	for _, s := range d.services {
		fmt.Fprintf(&b, "    %s:\n      loadBalancer:\n        servers:\n          - url: %q\n", s.name, s.url)
	}
	return b.String()
}

// yamlValue writes an option's value: a string quoted, a []string as a flow
// sequence of quoted strings, anything else (a number, a boolean) as Go
// prints it.
func yamlValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case []string:
		quoted := make([]string, len(v))
		for i, s := range v {
			quoted[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(quoted, ", ") + "]"
	}
	return fmt.Sprint(v)
}
