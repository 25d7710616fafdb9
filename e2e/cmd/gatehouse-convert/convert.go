package main

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/gatehouse-auth/gatehouse"
)

// notYet are oauth2-proxy flags Gatehouse does not support (yet), with why.
var notYet = map[string]string{
	"skip-oidc-discovery":   "discovery is required",
	"oidc-jwks-url":         "discovery is required",
	"oidc-extra-audience":   "not supported yet",
	"oidc-audience-claim":   "not supported yet",
	"htpasswd-file":         "not supported yet",
	"htpasswd-user-group":   "not supported yet",
	"display-htpasswd-form": "not supported yet",
	"pass-basic-auth":       "not supported yet",
	"basic-auth-password":   "not supported yet",
	"set-basic-auth":        "not supported yet",
	"trusted-ip":            "not supported yet",
	"approval-prompt":       "not supported yet",
	"acr-values":            "not supported yet",
	"custom-templates-dir":  "not supported yet",
	"banner":                "not supported yet",
	"footer":                "not supported yet",
	"custom-sign-in-logo":   "not supported yet",
	"prefer-email-to-user":  "not supported yet",
}

// Result is a converted configuration: the Gatehouse options and what the
// user must know about the conversion.
type Result struct {
	// Options maps Gatehouse option names to a string, bool or []string.
	Options map[string]any
	// Carried lists "--flag → option" for every flag carried over.
	Carried []string
	// Traefik lists the flags whose job Traefik or Gatehouse does anyway.
	Traefik []string
	// Unsupported lists the flags that cannot be carried over, with why.
	Unsupported []string
	// Notes lists defaults that differ and other things to check.
	Notes []string
}

// convert turns oauth2-proxy values into Gatehouse options.
// authResponseHeaders are the forwardAuth middleware's, if any. Unless
// authTarget (Gatehouse answering a proxy's auth subrequests, as oauth2-proxy
// did), the middleware goes on the app's router, so a static upstream and
// reverseProxy, which only served ForwardAuth, are dropped.
func convert(v *values, authResponseHeaders []string, authTarget bool) *Result {
	r := &Result{Options: map[string]any{}}
	names := append([]string(nil), v.order...)
	sort.Strings(names)
	for _, flag := range names {
		raw := v.raw[flag]
		if m, ok := lookup(flag); ok {
			val, ok, notes, err := convertValue(m, raw)
			r.Notes = append(r.Notes, notes...)
			switch {
			case err != nil:
				r.Unsupported = append(r.Unsupported, err.Error())
			case ok:
				r.Options[m.option] = val
				r.Carried = append(r.Carried, fmt.Sprintf("--%s → %s", flag, m.option))
			}
			continue
		}
		if why, ok := traefikFlags[flag]; ok {
			r.Traefik = append(r.Traefik, fmt.Sprintf("--%s: %s", flag, why))
			continue
		}
		if why, ok := alwaysOn[flag]; ok {
			r.Traefik = append(r.Traefik, fmt.Sprintf("--%s: %s", flag, why))
			continue
		}
		why, ok := notYet[flag]
		if !ok {
			why = "no Gatehouse option"
		}
		r.Unsupported = append(r.Unsupported, fmt.Sprintf("--%s: %s", flag, why))
	}
	if !authTarget {
		if u, ok := r.Options["upstream"]; ok {
			delete(r.Options, "upstream")
			r.Notes = append(r.Notes, fmt.Sprintf("upstream: %s dropped: on the app's router, Gatehouse passes authorized requests to the router's service (use -auth-target to keep it)", u))
		}
		if _, ok := r.Options["reverseProxy"]; ok {
			delete(r.Options, "reverseProxy")
			r.Notes = append(r.Notes, "reverseProxy: dropped: on the app's router the request is the client's own (use -auth-target to keep it)")
		}
	}
	if len(authResponseHeaders) > 0 {
		r.Options["authResponseHeaders"] = authResponseHeaders
	}
	r.Notes = append(r.Notes, checks(r.Options)...)
	kept := r.Carried[:0]
	for _, c := range r.Carried {
		if _, option, _ := strings.Cut(c, " → "); r.Options[option] != nil {
			kept = append(kept, c)
		}
	}
	r.Carried = kept
	return r
}

// checks returns the notes about defaults that differ and options the
// converted configuration still needs.
func checks(o map[string]any) []string {
	var n []string
	has := func(k string) bool { _, ok := o[k]; return ok }
	if !has("codeChallengeMethod") {
		n = append(n, "codeChallengeMethod: Gatehouse uses PKCE S256 by default (oauth2-proxy: none); set codeChallengeMethod: none for a provider without PKCE")
	}
	if !has("cookieSameSite") {
		n = append(n, "cookieSameSite: Gatehouse's default is lax (oauth2-proxy: unset)")
	}
	n = append(n, "stripAuthCookies: Gatehouse removes its own cookies before the request reaches the app (oauth2-proxy passes them on); set stripAuthCookies: false if the app reads them")
	if s, ok := o["scope"].(string); ok && !strings.Contains(" "+s+" ", " openid ") && o["provider"] != "github" {
		n = append(n, "scope: Gatehouse requires openid in the scope")
	}
	if has("allowedGroups") {
		if s, _ := o["scope"].(string); !strings.Contains(s, "groups") {
			n = append(n, "allowedGroups: Gatehouse does not add a groups scope; add the one your provider needs to scope")
		}
	}
	if !has("emailDomains") && !has("authenticatedEmailsFile") && !has("allowedGroups") && !has("allowedRoles") &&
		!(o["provider"] == "github" && (has("githubOrg") || has("githubTeam") || has("githubRepo") || has("githubUsers"))) {
		n = append(n, "emailDomains: Gatehouse requires an authorization rule: set emailDomains (\"*\" for any email), allowedGroups or allowedRoles")
	}
	for _, k := range []string{"clientSecret", "cookieSecret"} {
		if has(k) && has(k+"File") {
			delete(o, k)
			n = append(n, fmt.Sprintf("%s: dropped, %sFile is set too and Gatehouse takes only one; check that the file holds the secret oauth2-proxy used", k, k))
		}
	}
	if !has("clientSecret") && !has("clientSecretFile") {
		n = append(n, "clientSecret: a client secret is required (public clients are not supported yet)")
	}
	if !has("cookieSecret") && !has("cookieSecretFile") {
		n = append(n, "cookieSecret: required; generate one with openssl rand -base64 32")
	}
	if has("clientSecret") {
		n = append(n, "clientSecret is written into the configuration as given: prefer clientSecretFile (a mounted secret, re-read on rotation)")
	}
	if has("cookieSecret") {
		n = append(n, "cookieSecret is written into the configuration as given: prefer cookieSecretFile (or urn:k8s:secret:<name>:<key> in a Kubernetes Middleware)")
	}
	for _, k := range []string{"githubToken", "redisPassword", "redisSentinelPassword"} {
		if has(k) {
			n = append(n, k+" is written into the configuration as given: guard who can read it")
		}
	}
	if o["redisUseSentinel"] == true && has("redisConnectionURL") {
		delete(o, "redisConnectionURL")
		n = append(n, "redisConnectionURL: dropped, Gatehouse requires it empty with redisUseSentinel (oauth2-proxy ignores it)")
	}
	if has("cookieExpire") {
		n = append(n, "cookieExpire: refreshes never extend a Gatehouse session; users sign in again after cookieExpire")
	}
	// Gatehouse reads oauth2-proxy's sessions with the secret oauth2-proxy
	// signed them with, when Gatehouse can use that secret too.
	secrets, _ := o["cookieSecret"].([]string)
	if has("cookieSecretFile") || len(secrets) == 1 && secretLen(secrets[0]) == 32 {
		o["migrateOAuth2ProxyCookies"] = true
		n = append(n, "migrateOAuth2ProxyCookies: true keeps users signed in through the switch: Gatehouse takes over oauth2-proxy's sessions (same cookieSecret and cookieName) and re-seals them in its own format; set it to false once cookieExpire has passed since the switch")
	} else {
		n = append(n, "users sign in once more after the switch: Gatehouse cannot read oauth2-proxy's sessions without its cookie secret")
	}
	return n
}

// optionOrder returns the Gatehouse option names of o in the order of the
// plugin's Config fields, the way the README's option table lists them.
func optionOrder(o map[string]any) []string {
	t := reflect.TypeOf(gatehouse.Config{})
	var names []string
	for i := 0; i < t.NumField(); i++ {
		for k := range o {
			if strings.EqualFold(k, t.Field(i).Name) {
				names = append(names, k)
			}
		}
	}
	return names
}
