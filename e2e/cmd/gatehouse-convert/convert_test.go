package main

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/mitchellh/mapstructure"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// secret32 is a valid cookie secret for the tests: base64 of 32 bytes.
const secret32 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// convertArgs runs the command and returns stdout and stderr.
func convertArgs(t *testing.T, args, env []string) (string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(args, env, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("run(%q) = %v, want nil", args, err)
	}
	return out.String(), errOut.String()
}

// decodeFile reads the file-provider YAML the command wrote and fills a
// CreateConfig() from its options as Traefik does (mapstructure, weakly
// typed, "a,b" split), refusing any option that is not a Config field.
func decodeFile(t *testing.T, out, name string) (*gatehouse.Config, map[string]any) {
	t.Helper()
	var doc struct {
		HTTP struct {
			Middlewares map[string]struct {
				Plugin map[string]map[string]any `yaml:"plugin"`
			} `yaml:"middlewares"`
		} `yaml:"http"`
	}
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, out)
	}
	options := doc.HTTP.Middlewares[name].Plugin["gatehouse"]
	cfg := gatehouse.CreateConfig()
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		DecodeHook:       mapstructure.StringToSliceHookFunc(","),
		WeaklyTypedInput: true,
		ErrorUnused:      true,
		Result:           cfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(options); err != nil {
		t.Fatalf("decoding %v as Traefik does: %v", options, err)
	}
	return cfg, options
}

// field returns the Config field named name, in any case.
func field(cfg *gatehouse.Config, name string) reflect.Value {
	return reflect.ValueOf(cfg).Elem().FieldByNameFunc(func(f string) bool { return strings.EqualFold(f, name) })
}

// TestEveryOptionIsMappedOrGatehouseOnly fails when Config gains an option
// that the converter neither maps from an oauth2-proxy flag nor lists as
// Gatehouse's own, or when a mapping names no Config field.
func TestEveryOptionIsMappedOrGatehouseOnly(t *testing.T) {
	known := map[string]bool{}
	for _, m := range mappings {
		known[strings.ToLower(m.option)] = true
	}
	for o := range gatehouseOnly {
		known[strings.ToLower(o)] = true
	}
	ct := reflect.TypeOf(gatehouse.Config{})
	fields := map[string]bool{}
	for i := 0; i < ct.NumField(); i++ {
		name := strings.ToLower(ct.Field(i).Name)
		fields[name] = true
		if !known[name] {
			t.Errorf("Config.%s: neither mapped from an oauth2-proxy flag nor listed in gatehouseOnly", ct.Field(i).Name)
		}
	}
	for name := range known {
		if !fields[name] {
			t.Errorf("option %s: no such Config field", name)
		}
	}
}

// flagCases convert one oauth2-proxy flag each and check the Config field
// Traefik would fill from the output. Every mapped flag has a case.
var flagCases = []struct {
	args       []string
	authTarget bool
	field      string
	want       any
}{
	{[]string{"--provider=github"}, false, "Provider", "github"},
	{[]string{"--provider=keycloak-oidc"}, false, "Provider", "oidc"},
	{[]string{"--oidc-issuer-url=https://id.example.com/realms/x"}, false, "OIDCIssuerURL", "https://id.example.com/realms/x"},
	{[]string{"--client-id", "app"}, false, "ClientID", "app"},
	{[]string{"--client-secret=s"}, false, "ClientSecret", "s"},
	{[]string{"--client-secret-file=/run/secrets/c"}, false, "ClientSecretFile", "/run/secrets/c"},
	{[]string{"--redirect-url=https://a.example.com/oauth2/callback"}, false, "RedirectURL", "https://a.example.com/oauth2/callback"},
	{[]string{"--scope=openid email groups"}, false, "Scope", "openid email groups"},
	{[]string{"--code-challenge-method=S256"}, false, "CodeChallengeMethod", "S256"},
	{[]string{"--oidc-email-claim=mail"}, false, "OIDCEmailClaim", "mail"},
	{[]string{"--oidc-groups-claim=realm_access.roles"}, false, "OIDCGroupsClaim", "realm_access.roles"},
	{[]string{"--user-id-claim=upn"}, false, "UserIDClaim", "upn"},
	{[]string{"--insecure-oidc-allow-unverified-email"}, false, "InsecureOIDCAllowUnverifiedEmail", true},
	{[]string{"--login-url=https://ghe.example.com/login/oauth/authorize"}, false, "LoginURL", "https://ghe.example.com/login/oauth/authorize"},
	{[]string{"--redeem-url=https://ghe.example.com/login/oauth/access_token"}, false, "RedeemURL", "https://ghe.example.com/login/oauth/access_token"},
	{[]string{"--validate-url=https://ghe.example.com/api/v3"}, false, "ValidateURL", "https://ghe.example.com/api/v3"},
	{[]string{"--profile-url=https://ghe.example.com/api/v3/user"}, false, "ProfileURL", "https://ghe.example.com/api/v3/user"},
	{[]string{"--github-org=acme"}, false, "GitHubOrg", "acme"},
	{[]string{"--github-team=ops,dev"}, false, "GitHubTeam", []string{"ops", "dev"}},
	{[]string{"--github-repo=acme/app"}, false, "GitHubRepo", "acme/app"},
	{[]string{"--github-token=t"}, false, "GitHubToken", "t"},
	{[]string{"--github-user=alice", "--github-user=bob"}, false, "GitHubUsers", []string{"alice", "bob"}},
	{[]string{"--cookie-name=__Host-gh"}, false, "CookieName", "__Host-gh"},
	{[]string{"--cookie-secret=" + secret32}, false, "CookieSecret", []string{secret32}},
	{[]string{"--cookie-secret-file=/run/secrets/k"}, false, "CookieSecretFile", "/run/secrets/k"},
	{[]string{"--cookie-domain=example.com", "--cookie-domain=example.org"}, false, "CookieDomains", []string{"example.com", "example.org"}},
	{[]string{"--cookie-path=/app"}, false, "CookiePath", "/app"},
	{[]string{"--cookie-expire=24h"}, false, "CookieExpire", "24h"},
	{[]string{"--cookie-secure=false"}, false, "CookieSecure", false},
	{[]string{"--cookie-httponly=false"}, false, "CookieHTTPOnly", false},
	{[]string{"--cookie-samesite=strict"}, false, "CookieSameSite", "strict"},
	{[]string{"--cookie-refresh=1h"}, false, "CookieRefresh", "1h"},
	{[]string{"--backend-logout-url=https://id.example.com/logout?id_token_hint={id_token}"}, false, "BackendLogoutURL", "https://id.example.com/logout?id_token_hint={id_token}"},
	{[]string{"--proxy-prefix=/auth"}, false, "ProxyPrefix", "/auth"},
	{[]string{"--reverse-proxy=true"}, true, "ReverseProxy", true},
	{[]string{"--reverse-proxy=true"}, false, "ReverseProxy", false},
	{[]string{"--whitelist-domain=.example.com"}, false, "WhitelistDomains", []string{".example.com"}},
	{[]string{"--email-domain=example.com", "--email-domain", "example.org"}, false, "EmailDomains", []string{"example.com", "example.org"}},
	{[]string{"--authenticated-emails-file=/etc/emails"}, false, "AuthenticatedEmailsFile", "/etc/emails"},
	{[]string{"--allowed-group=admins"}, false, "AllowedGroups", []string{"admins"}},
	{[]string{"--allowed-role=app:admin"}, false, "AllowedRoles", []string{"app:admin"}},
	{[]string{"--skip-auth-route=GET=^/healthz$", "--skip-auth-route=^/public/"}, false, "SkipAuthRoutes", []string{"GET=^/healthz$", "^/public/"}},
	{[]string{"--skip-auth-preflight"}, false, "SkipAuthPreflight", true},
	{[]string{"--api-route=^/api/"}, false, "APIRoutes", []string{"^/api/"}},
	{[]string{"--skip-provider-button=true"}, false, "SkipProviderButton", true},
	{[]string{"--prompt=login"}, false, "Prompt", "login"},
	{[]string{"--pass-user-headers=false"}, false, "PassUserHeaders", false},
	{[]string{"--pass-access-token"}, false, "PassAccessToken", true},
	{[]string{"--pass-authorization-header"}, false, "PassAuthorizationHeader", true},
	{[]string{"--set-xauthrequest"}, false, "SetXAuthRequest", true},
	{[]string{"--set-authorization-header"}, false, "SetAuthorizationHeader", true},
	{[]string{"--session-store-type=redis"}, false, "SessionStoreType", "redis"},
	{[]string{"--redis-connection-url=redis://r:6379/0"}, false, "RedisConnectionURL", "redis://r:6379/0"},
	{[]string{"--redis-username=u"}, false, "RedisUsername", "u"},
	{[]string{"--redis-password=p"}, false, "RedisPassword", "p"},
	{[]string{"--redis-ca-path=/etc/ca.pem"}, false, "RedisCAPath", "/etc/ca.pem"},
	{[]string{"--redis-insecure-skip-tls-verify"}, false, "RedisInsecureSkipTLSVerify", true},
	{[]string{"--redis-connection-idle-timeout=300"}, false, "RedisConnectionIdleTimeout", "300"},
	{[]string{"--redis-use-sentinel"}, false, "RedisUseSentinel", true},
	{[]string{"--redis-sentinel-master-name=m"}, false, "RedisSentinelMasterName", "m"},
	{[]string{"--redis-sentinel-connection-urls=redis://s1:26379,redis://s2:26379"}, false, "RedisSentinelConnectionURLs", []string{"redis://s1:26379", "redis://s2:26379"}},
	{[]string{"--redis-sentinel-password=sp"}, false, "RedisSentinelPassword", "sp"},
	{[]string{"--redis-use-cluster"}, false, "RedisUseCluster", true},
	{[]string{"--redis-cluster-connection-urls=redis://c1:6379"}, false, "RedisClusterConnectionURLs", []string{"redis://c1:6379"}},
	{[]string{"--skip-jwt-bearer-tokens"}, false, "SkipJWTBearerTokens", true},
	{[]string{"--extra-jwt-issuers=https://a.example.com=api"}, false, "ExtraJWTIssuers", []string{"https://a.example.com=api"}},
	{[]string{"--upstream=static://202"}, true, "Upstream", "static://202"},
	{[]string{"--upstream=static://202"}, false, "Upstream", ""},
	{[]string{"--upstream=http://app:8080"}, true, "Upstream", ""},
}

func TestEachFlagConverts(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range flagCases {
		args := []string{"-name", "auth"}
		if c.authTarget {
			args = append(args, "-auth-target")
		}
		out, _ := convertArgs(t, append(append(args, "--"), c.args...), nil)
		cfg, _ := decodeFile(t, out, "auth")
		f := field(cfg, c.field)
		if !f.IsValid() {
			t.Fatalf("Config has no field %s", c.field)
		}
		if got := f.Interface(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("convert(%q, authTarget %v): %s = %#v, want %#v", c.args, c.authTarget, c.field, got, c.want)
		}
		for _, a := range c.args {
			covered[strings.SplitN(strings.TrimLeft(a, "-"), "=", 2)[0]] = true
		}
	}
	for _, m := range mappings {
		if !covered[m.flag] {
			t.Errorf("--%s has no case in flagCases", m.flag)
		}
	}
}

// TestPrecedence checks oauth2-proxy's order: flags over OAUTH2_PROXY_*
// variables over the cfg file, for single values and lists alike.
func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "oauth2-proxy.cfg")
	cfgText := `# oauth2-proxy.cfg
client_id = "from-file"
client_secret = "file-secret" # a comment
cookie_name = "_file"
email_domains = [
  "file.example.com",   # first
  "file.example.org",
]
skip_provider_button = true
`
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	envPath := filepath.Join(dir, "env")
	if err := os.WriteFile(envPath, []byte("# env file\nOAUTH2_PROXY_COOKIE_NAME=_envfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"OAUTH2_PROXY_CLIENT_ID=from-env", "OAUTH2_PROXY_EMAIL_DOMAINS=env.example.com,env.example.org", "HOME=/root"}
	out, _ := convertArgs(t, []string{"-config", cfgPath, "-env-file", envPath, "--", "--client-id=from-flag"}, env)
	cfg, _ := decodeFile(t, out, "gatehouse")
	for _, c := range []struct {
		field string
		want  any
	}{
		{"ClientID", "from-flag"},
		{"ClientSecret", "file-secret"},
		{"CookieName", "_envfile"},
		{"EmailDomains", []string{"env.example.com", "env.example.org"}},
		{"SkipProviderButton", true},
	} {
		if got := field(cfg, c.field).Interface(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.field, got, c.want)
		}
	}

	// A --config flag among oauth2-proxy's names the cfg file too, and a
	// flag list replaces the file's list instead of adding to it.
	out, _ = convertArgs(t, []string{"--", "--config=" + cfgPath, "--email-domain=flag.example.com"}, nil)
	cfg, _ = decodeFile(t, out, "gatehouse")
	if got, want := cfg.EmailDomains, []string{"flag.example.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("EmailDomains with --config and --email-domain = %q, want %q", got, want)
	}
	if cfg.ClientID != "from-file" {
		t.Errorf("ClientID with --config = %q, want from-file", cfg.ClientID)
	}
}

// TestReport checks that flags Traefik takes over and flags Gatehouse lacks
// are listed by name, with no secret in the report.
func TestReport(t *testing.T) {
	_, report := convertArgs(t, []string{"--",
		"--http-address=0.0.0.0:4180", "--force-https", "--metrics-address=:9100",
		"--htpasswd-file=/etc/htpasswd", "--made-up-flag", "x", "--provider=facebook",
		"--skip-auth-strip-headers", "--client-secret=do-not-echo-me", "--cookie-secret=short-secret",
		"--cookie-httponly=maybe", "--cookie-expire=0",
	}, nil)
	for _, want := range []string{
		"--http-address: Traefik's entry points",
		"--force-https: Traefik's redirectScheme middleware",
		"--metrics-address: Traefik's metrics",
		"--skip-auth-strip-headers: always on",
		"--htpasswd-file: not supported yet",
		"--made-up-flag: no Gatehouse option",
		"--provider=facebook is not supported",
		"--cookie-httponly=maybe: not a boolean",
		"--cookie-expire=0 (a browser-session cookie) is not accepted",
		"Cannot be carried over (5):",
		"codeChallengeMethod: Gatehouse uses PKCE S256",
		"cookieSameSite: Gatehouse's default is lax",
		"cookieSecret: Gatehouse needs 32 bytes, this one is 12",
		"prefer clientSecretFile",
		"the forwardAuth middleware whose address is oauth2-proxy's /oauth2/auth",
		"the errors middleware that turns 401 into /oauth2/sign_in",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "do-not-echo-me") || strings.Contains(report, "short-secret") {
		t.Errorf("report echoes a secret:\n%s", report)
	}
}

// TestMigrationNeedsTheSecret: the converted middleware takes over
// oauth2-proxy's sessions when it has oauth2-proxy's cookie secret and can
// use it; with a secret Gatehouse refuses, users sign in again, and the
// report says so.
func TestMigrationNeedsTheSecret(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		migrate bool
		report  string
	}{
		{[]string{"--cookie-secret=" + secret32}, true, "migrateOAuth2ProxyCookies: true keeps users signed in"},
		{[]string{"--cookie-secret-file=/run/secrets/cookie"}, true, "migrateOAuth2ProxyCookies: true keeps users signed in"},
		{[]string{"--cookie-secret=MDEyMzQ1Njc4OWFiY2RlZg=="}, false, "users sign in once more after the switch"},
		{nil, false, "users sign in once more after the switch"},
	} {
		out, report := convertArgs(t, append([]string{"--", "--email-domain=example.com"}, tc.args...), nil)
		cfg, _ := decodeFile(t, out, "gatehouse")
		if cfg.MigrateOAuth2ProxyCookies != tc.migrate {
			t.Errorf("%q: migrateOAuth2ProxyCookies = %v, want %v", tc.args, cfg.MigrateOAuth2ProxyCookies, tc.migrate)
		}
		if !strings.Contains(report, tc.report) {
			t.Errorf("%q: report lacks %q:\n%s", tc.args, tc.report, report)
		}
	}
}

// TestReadArgs reads flags pasted from a shell, a compose command list and
// a Kubernetes args flow list.
func TestReadArgs(t *testing.T) {
	want := []string{"--email-domain=*", "--scope=openid email", `--skip-auth-route=^/a\.b$`}
	for _, text := range []string{
		"oauth2-proxy --email-domain='*' \\\n  \"--scope=openid email\" '--skip-auth-route=^/a\\.b$'\n",
		"command:\n  - --email-domain=*\n  - --scope=openid email\n  - --skip-auth-route=^/a\\.b$\n",
		"args: [\"--email-domain=*\", \"--scope=openid email\", '--skip-auth-route=^/a\\.b$']\n",
	} {
		got, err := readArgs(strings.NewReader(text))
		if err == nil && len(got) > 0 && strings.Contains(got[0], "oauth2-proxy") {
			got = got[1:]
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("readArgs(%q) = %q, %v, want %q", text, got, err, want)
		}
	}
}

// goldenInput is an oauth2-proxy configuration in the style of its Traefik
// guide, converted in every format.
var goldenInput = []string{
	"-name", "auth", "-auth-response-headers", "X-Auth-Request-Email", "--",
	"--provider=oidc", "--oidc-issuer-url=https://id.example.com/realms/main", "--client-id=app",
	"--client-secret-file=/run/secrets/client", "--cookie-secret-file=/run/secrets/cookie",
	"--email-domain=example.com", "--email-domain=example.org", "--skip-auth-route=GET=^/healthz$",
	"--cookie-secure=true", "--reverse-proxy=true", "--upstream=static://202", "--set-xauthrequest",
	"--http-address=0.0.0.0:4180",
}

func TestFormatsGolden(t *testing.T) {
	for _, format := range []string{"file", "labels", "kubernetes"} {
		out, report := convertArgs(t, append([]string{"-format", format, "-namespace", "apps"}, goldenInput...), nil)
		got := out + "---report---\n" + report
		path := filepath.Join("testdata", format+".golden")
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("-format %s: output differs from %s (run go test -update and review):\n%s", format, path, got)
		}
		var v any
		if err := yaml.Unmarshal([]byte(out), &v); err != nil {
			t.Errorf("-format %s: stdout is not YAML: %v", format, err)
		}
	}
}

// TestConvertedConfigIsAccepted builds the middleware from a converted
// configuration, offline, as Traefik would.
func TestConvertedConfigIsAccepted(t *testing.T) {
	args := append([]string{"--", "--cookie-secret=" + secret32, "--client-secret=s"}, goldenInput[5:]...)
	out, _ := convertArgs(t, append([]string{"-name", "auth"}, args...), nil)
	cfg, _ := decodeFile(t, out, "auth")
	if _, err := gatehouse.New(context.Background(), http.NotFoundHandler(), cfg, "auth"); err != nil {
		t.Errorf("New(converted) = %v, want nil\n%s", err, out)
	}
}

// TestSecretLen: a secret is measured as Gatehouse reads it: base64 of 32
// bytes, else its own bytes (a 32-character secret that is also base64 of
// 24 bytes is 32 raw bytes to Gatehouse).
func TestSecretLen(t *testing.T) {
	for s, want := range map[string]int{
		"abcdefghijklmnopqrstuvwxyz012345":             32,
		"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=": 32,
		"MDEyMzQ1Njc4OWFiY2RlZg==":                     24,
		"short-secret":                                 12,
	} {
		if got := secretLen(s); got != want {
			t.Errorf("secretLen(%q) = %d, want %d", s, got, want)
		}
	}
}
