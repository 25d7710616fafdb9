package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// kind is how an oauth2-proxy value is read and written as a Gatehouse option.
type kind int

const (
	text    kind = iota // a string, carried as given
	boolean             // "true", "false" or a bare flag
	list                // repeated flags, a cfg array, or comma-separated
	seconds             // an integer number of seconds (oauth2-proxy int options)
)

// mapping is one oauth2-proxy flag that Gatehouse carries over: its flag
// name, its key in the cfg file (which also names its OAUTH2_PROXY_*
// variable), the Gatehouse option and how the value is read.
type mapping struct {
	flag, cfg, option string
	kind              kind
}

// mappings lists every oauth2-proxy flag that becomes a Gatehouse option, in
// the order of Gatehouse's Config. provider, upstream, cookie-secret and
// github-team need more than a copy: see convertValue.
var mappings = []mapping{
	{"provider", "provider", "provider", text},
	{"oidc-issuer-url", "oidc_issuer_url", "oidcIssuerURL", text},
	{"client-id", "client_id", "clientID", text},
	{"client-secret", "client_secret", "clientSecret", text},
	{"client-secret-file", "client_secret_file", "clientSecretFile", text},
	{"redirect-url", "redirect_url", "redirectURL", text},
	{"scope", "scope", "scope", text},
	{"code-challenge-method", "code_challenge_method", "codeChallengeMethod", text},
	{"oidc-email-claim", "oidc_email_claim", "oidcEmailClaim", text},
	{"oidc-groups-claim", "oidc_groups_claim", "oidcGroupsClaim", text},
	{"user-id-claim", "user_id_claim", "userIDClaim", text},
	{"insecure-oidc-allow-unverified-email", "insecure_oidc_allow_unverified_email", "insecureOIDCAllowUnverifiedEmail", boolean},
	{"login-url", "login_url", "loginURL", text},
	{"redeem-url", "redeem_url", "redeemURL", text},
	{"validate-url", "validate_url", "validateURL", text},
	{"profile-url", "profile_url", "profileURL", text},
	{"github-org", "github_org", "githubOrg", text},
	{"github-team", "github_team", "githubTeam", list},
	{"github-repo", "github_repo", "githubRepo", text},
	{"github-token", "github_token", "githubToken", text},
	{"github-user", "github_users", "githubUsers", list},
	{"cookie-name", "cookie_name", "cookieName", text},
	{"cookie-secret", "cookie_secret", "cookieSecret", list},
	{"cookie-secret-file", "cookie_secret_file", "cookieSecretFile", text},
	{"cookie-domain", "cookie_domains", "cookieDomains", list},
	{"cookie-path", "cookie_path", "cookiePath", text},
	{"cookie-expire", "cookie_expire", "cookieExpire", text},
	{"cookie-secure", "cookie_secure", "cookieSecure", boolean},
	{"cookie-httponly", "cookie_httponly", "cookieHTTPOnly", boolean},
	{"cookie-samesite", "cookie_samesite", "cookieSameSite", text},
	{"cookie-refresh", "cookie_refresh", "cookieRefresh", text},
	{"backend-logout-url", "backend_logout_url", "backendLogoutURL", text},
	{"proxy-prefix", "proxy_prefix", "proxyPrefix", text},
	{"reverse-proxy", "reverse_proxy", "reverseProxy", boolean},
	{"whitelist-domain", "whitelist_domains", "whitelistDomains", list},
	{"email-domain", "email_domains", "emailDomains", list},
	{"authenticated-emails-file", "authenticated_emails_file", "authenticatedEmailsFile", text},
	{"allowed-group", "allowed_groups", "allowedGroups", list},
	{"allowed-role", "allowed_roles", "allowedRoles", list},
	{"skip-auth-route", "skip_auth_routes", "skipAuthRoutes", list},
	{"skip-auth-preflight", "skip_auth_preflight", "skipAuthPreflight", boolean},
	{"api-route", "api_routes", "apiRoutes", list},
	{"skip-provider-button", "skip_provider_button", "skipProviderButton", boolean},
	{"prompt", "prompt", "prompt", text},
	{"pass-user-headers", "pass_user_headers", "passUserHeaders", boolean},
	{"pass-access-token", "pass_access_token", "passAccessToken", boolean},
	{"pass-authorization-header", "pass_authorization_header", "passAuthorizationHeader", boolean},
	{"set-xauthrequest", "set_xauthrequest", "setXAuthRequest", boolean},
	{"set-authorization-header", "set_authorization_header", "setAuthorizationHeader", boolean},
	{"session-store-type", "session_store_type", "sessionStoreType", text},
	{"redis-connection-url", "redis_connection_url", "redisConnectionURL", text},
	{"redis-username", "redis_username", "redisUsername", text},
	{"redis-password", "redis_password", "redisPassword", text},
	{"redis-ca-path", "redis_ca_path", "redisCAPath", text},
	{"redis-insecure-skip-tls-verify", "redis_insecure_skip_tls_verify", "redisInsecureSkipTLSVerify", boolean},
	{"redis-connection-idle-timeout", "redis_connection_idle_timeout", "redisConnectionIdleTimeout", seconds},
	{"redis-use-sentinel", "redis_use_sentinel", "redisUseSentinel", boolean},
	{"redis-sentinel-master-name", "redis_sentinel_master_name", "redisSentinelMasterName", text},
	{"redis-sentinel-connection-urls", "redis_sentinel_connection_urls", "redisSentinelConnectionURLs", list},
	{"redis-sentinel-password", "redis_sentinel_password", "redisSentinelPassword", text},
	{"redis-use-cluster", "redis_use_cluster", "redisUseCluster", boolean},
	{"redis-cluster-connection-urls", "redis_cluster_connection_urls", "redisClusterConnectionURLs", list},
	{"skip-jwt-bearer-tokens", "skip_jwt_bearer_tokens", "skipJWTBearerTokens", boolean},
	{"extra-jwt-issuers", "extra_jwt_issuers", "extraJWTIssuers", list},
	{"upstream", "upstreams", "upstream", list},
}

// gatehouseOnly names the Gatehouse options that no oauth2-proxy flag sets,
// with what the converter says about them.
var gatehouseOnly = map[string]string{
	"sessionIdleTimeout":        "sign users out after this much inactivity (no oauth2-proxy counterpart)",
	"oidcLogout":                "oidcLogout: true also signs the user out at the provider",
	"allowedEmails":             "oauth2-proxy has allowed_emails only on /oauth2/auth",
	"authResponseHeaders":       "set from the forwardAuth middleware's authResponseHeaders (-auth-response-headers)",
	"stripAuthCookies":          "Gatehouse removes its cookies before the app by default (oauth2-proxy passes them on)",
	"redisKeyPrefix":            "no oauth2-proxy counterpart",
	"migrateOAuth2ProxyCookies": "set when oauth2-proxy's cookie secret is carried over: its users stay signed in",
}

// traefikFlags are oauth2-proxy flags whose job Traefik does, with what
// takes their place.
var traefikFlags = map[string]string{
	"http-address":            "Traefik's entry points",
	"https-address":           "Traefik's entry points",
	"tls-cert-file":           "Traefik's TLS configuration",
	"tls-key-file":            "Traefik's TLS configuration",
	"tls-min-version":         "Traefik's TLS options",
	"tls-cipher-suite":        "Traefik's TLS options",
	"force-https":             "Traefik's redirectScheme middleware",
	"ping-path":               "Traefik's ping",
	"ping-user-agent":         "Traefik's ping",
	"ready-path":              "Traefik's ping",
	"gcp-healthchecks":        "Traefik's ping",
	"silence-ping-logging":    "Traefik's ping",
	"metrics-address":         "Traefik's metrics",
	"metrics-secure-address":  "Traefik's metrics",
	"metrics-tls-cert-file":   "Traefik's metrics",
	"metrics-tls-key-file":    "Traefik's metrics",
	"request-logging":         "Traefik's access log",
	"request-logging-format":  "Traefik's access log",
	"auth-logging":            "Traefik's log",
	"auth-logging-format":     "Traefik's log",
	"standard-logging":        "Traefik's log",
	"standard-logging-format": "Traefik's log",
	"logging-filename":        "Traefik's log",
	"logging-max-size":        "Traefik's log",
	"logging-max-age":         "Traefik's log",
	"logging-max-backups":     "Traefik's log",
	"logging-local-time":      "Traefik's log",
	"logging-compress":        "Traefik's log",
	"exclude-logging-path":    "Traefik's access log filters",
	"pass-host-header":        "Traefik's passHostHeader (on by default)",
	"real-client-ip-header":   "Traefik's forwardedHeaders.trustedIPs",
}

// alwaysOn are oauth2-proxy flags whose behaviour Gatehouse always has.
var alwaysOn = map[string]string{
	"skip-auth-strip-headers":     "always on: identity headers from the client are removed",
	"cookie-csrf-per-request":     "always on: one CSRF cookie per sign-in",
	"cookie-csrf-expire":          "fixed at 15 minutes",
	"insecure-oidc-skip-nonce":    "the nonce is always checked",
	"bearer-token-login-fallback": "a bearer token that fails is always a 401",
	"config":                      "read by the converter",
}

// oidcProviders are oauth2-proxy providers that speak OpenID Connect, and
// so become provider oidc with their issuer.
var oidcProviders = map[string]bool{
	"oidc": true, "keycloak-oidc": true, "azure": true, "entra-id": true,
	"google": true, "gitlab": true, "adfs": true,
}

// lookup returns the mapping of an oauth2-proxy flag name.
func lookup(flag string) (mapping, bool) {
	for _, m := range mappings {
		if m.flag == flag {
			return m, true
		}
	}
	return mapping{}, false
}

// flagOfKey returns the flag name of a cfg key (or an environment
// variable's name without its OAUTH2_PROXY_ prefix, lower-cased).
func flagOfKey(key string) string {
	for _, m := range mappings {
		if m.cfg == key {
			return m.flag
		}
	}
	return strings.ReplaceAll(key, "_", "-")
}

// convertValue turns the raw values of one mapped flag into the option's
// value: a string, a bool or a []string. ok is false when the value is
// dropped, and the notes say why or what differs.
func convertValue(m mapping, raw []string) (v any, ok bool, notes []string, err error) {
	last := ""
	if len(raw) > 0 {
		last = raw[len(raw)-1]
	}
	switch m.flag {
	case "provider":
		p := strings.ToLower(last)
		switch {
		case p == "github":
			return "github", true, nil, nil
		case oidcProviders[p]:
			if p != "oidc" {
				notes = append(notes, fmt.Sprintf("--provider=%s: becomes provider oidc; set oidcIssuerURL to its issuer", p))
			}
			return "oidc", true, notes, nil
		default:
			return nil, false, nil, fmt.Errorf("--provider=%s is not supported (only oidc-speaking providers and github)", last)
		}
	case "upstream":
		var static string
		for _, u := range splitList(raw) {
			if strings.HasPrefix(u, "static://") {
				static = u
			} else {
				notes = append(notes, fmt.Sprintf("--upstream=%s: becomes the service of the router that uses the middleware", u))
			}
		}
		if static == "" {
			return nil, false, notes, nil
		}
		return static, true, notes, nil
	case "cookie-secret":
		if n := secretLen(last); n != 32 {
			notes = append(notes, fmt.Sprintf("cookieSecret: Gatehouse needs 32 bytes, this one is %d: generate one with openssl rand -base64 32 (users sign in again)", n))
		}
		return []string{last}, true, notes, nil
	case "cookie-expire":
		if d, err := time.ParseDuration(last); err == nil && d == 0 || last == "0" {
			return nil, false, nil, fmt.Errorf("--cookie-expire=%s (a browser-session cookie) is not accepted by Gatehouse", last)
		}
	}
	switch m.kind {
	case boolean:
		b, err := strconv.ParseBool(last)
		if err != nil {
			return nil, false, nil, fmt.Errorf("--%s=%s: not a boolean", m.flag, last)
		}
		return b, true, nil, nil
	case list:
		return splitList(raw), true, nil, nil
	case seconds:
		if _, err := strconv.Atoi(last); err != nil {
			return nil, false, nil, fmt.Errorf("--%s=%s: not a number of seconds", m.flag, last)
		}
		return last, true, nil, nil
	}
	return last, true, nil, nil
}
