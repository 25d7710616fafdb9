package bench

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
	"github.com/gatehouse-auth/gatehouse/oauth/oidctest"
)

// The routers of the comparison. Each answers on the host <name>.localhost
// and sends what it lets through to the App.
const (
	// None is Traefik alone: no middleware.
	None = "none"
	// Gatehouse runs the plugin in the router's chain.
	Gatehouse = "gatehouse"
	// GatehouseRedis runs the plugin as Gatehouse does, with
	// sessionStoreType redis on the Stack's Redis server (see
	// Stack.StartRedis): its session cookie is a ticket, the session is in
	// Redis.
	GatehouseRedis = "gatehouse-redis"
	// GatehouseBearer runs the plugin as Gatehouse does, with
	// skipJWTBearerTokens on: the benchmark sends it a bearer token (see
	// Stack.BearerToken) and no cookie.
	GatehouseBearer = "gatehouse-bearer"
	// Forward asks oauth2-proxy through Traefik's forwardAuth middleware.
	Forward = "forward"
	// Noop runs the reference plugin (bench/reference) that only calls the
	// next handler: what Yaegi costs a plugin that does nothing.
	Noop = "noop"
	// Reference runs the reference plugin doing the least a warm request
	// needs: a map lookup of the Cookie header, the identity headers set,
	// the Cookie header removed.
	Reference = "reference"
)

// ReferenceAlias is the reference plugin's name in Traefik's configuration.
const ReferenceAlias = "reference"

// ReferencePlugin returns the reference plugin's module, the directory
// reference beside this file, to stage beside Gatehouse.
func ReferencePlugin() harness.LocalPlugin {
	_, file, _, _ := runtime.Caller(0)
	return harness.LocalPlugin{
		Alias:      ReferenceAlias,
		Dir:        filepath.Join(filepath.Dir(file), "reference"),
		ModuleName: "github.com/gatehouse-auth/reference",
	}
}

// ReferenceSession is the one session the reference plugin knows: a
// cookie of the size of Gatehouse's for the benchmark's tokens (1,646
// bytes), so that Traefik and wrk carry the same bytes for both.
var ReferenceSession = Session{Cookies: []*http.Cookie{{Name: "session", Value: strings.Repeat("r", 1638)}}}

// Host returns the host name the router answers on.
func Host(router string) string {
	return router + ".localhost"
}

// Stack is what runs beside Traefik: the identity provider, the app and
// oauth2-proxy, all on 127.0.0.1, sharing one client and cookie secret,
// and after StartRedis a Redis server.
type Stack struct {
	IdP   *oidctest.Provider
	App   *App
	Proxy *harness.OAuth2Proxy
	// Redis is the server of the gatehouse-redis router, nil until
	// StartRedis.
	Redis *Redis
	// CookieSecret seals Gatehouse's and oauth2-proxy's cookies: base64url
	// of 32 random bytes, a form both accept.
	CookieSecret string

	// variants are the routers added by StartOAuth2Proxy and AddGatehouse,
	// by name.
	variants map[string]variant
}

// Start starts a Stack; oauth2-proxy keeps its log in dir. On an error it
// stops what it had started. Close stops it.
func Start(dir string) (*Stack, error) {
	s := &Stack{}
	if err := s.start(dir); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Stack) start(dir string) error {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return fmt.Errorf("bench: cookie secret: %w", err)
	}
	s.CookieSecret = base64.URLEncoding.EncodeToString(secret)
	var err error
	if s.IdP, err = oidctest.Start("127.0.0.1:0"); err != nil {
		return fmt.Errorf("bench: identity provider: %w", err)
	}
	if s.App, err = startApp(); err != nil {
		return fmt.Errorf("bench: app: %w", err)
	}
	s.Proxy, err = harness.StartOAuth2Proxy(dir, oauth2ProxyFlags(s.IdP.Issuer(), s.CookieSecret)...)
	return err
}

// oauth2ProxyFlags configures oauth2-proxy as its Traefik guide does for
// ForwardAuth with a static upstream (--reverse-proxy, --upstream
// static://202), with the options Gatehouse's middleware is given: the same
// provider, client, cookie secret and email domain, identity headers on its
// answers (--set-xauthrequest, --set-authorization-header), and straight to
// the provider without a sign-in page. Everything else, request logging
// included, is oauth2-proxy's default.
func oauth2ProxyFlags(issuer, cookieSecret string) []string {
	return []string{
		"--provider=oidc",
		"--oidc-issuer-url=" + issuer,
		"--client-id=gatehouse",
		"--client-secret=secret",
		"--code-challenge-method=S256",
		"--cookie-secret=" + cookieSecret,
		"--cookie-secure=false",
		"--email-domain=example.com",
		"--upstream=static://202",
		"--reverse-proxy=true",
		"--set-xauthrequest=true",
		"--set-authorization-header=true",
		"--skip-provider-button=true",
	}
}

// Close stops whatever of the Stack is running.
func (s *Stack) Close() {
	if s.Redis != nil {
		s.Redis.Stop()
	}
	if s.Proxy != nil {
		s.Proxy.Stop()
	}
	for _, v := range s.variants {
		if v.proxy != nil {
			v.proxy.Stop()
		}
	}
	if s.App != nil {
		s.App.Close()
	}
	if s.IdP != nil {
		s.IdP.Close()
	}
}

// userClaims returns the claims of the user the identity provider signs
// in by default (see oidctest.Start), whose email is Email.
func userClaims() map[string]any {
	return map[string]any{
		"sub":                "u-123",
		"email":              Email,
		"email_verified":     true,
		"preferred_username": "alice",
		"groups":             []string{"admins", "staff"},
	}
}

// BearerToken returns a JWT signed by the identity provider for the client
// gatehouse, as an API client of that provider would send it: the claims of
// the user a sign-in gives (userClaims), issued at now and valid for
// lifetime.
func (s *Stack) BearerToken(now time.Time, lifetime time.Duration) (string, error) {
	claims := userClaims()
	claims["iss"] = s.IdP.Issuer()
	claims["aud"] = "gatehouse"
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(lifetime).Unix()
	token, err := s.IdP.Sign(nil, claims)
	if err != nil {
		return "", fmt.Errorf("bench: bearer token: %w", err)
	}
	return token, nil
}

// Dynamic returns Traefik's dynamic configuration for the routers named
// (the constants above, and those StartOAuth2Proxy and AddGatehouse added),
// each on its Host. The gatehouse router runs the plugin with the options
// oauth2-proxy is given (see oauth2ProxyFlags), passing the identity to the
// app as X-Forwarded-* and Authorization headers; the gatehouse-bearer router runs a middleware of its own with
// the same options and skipJWTBearerTokens, so that a JWT from the
// identity provider for the client gatehouse lets a request through; the
// gatehouse-redis router runs one with the same options and
// sessionStoreType redis on the Stack's Redis server, which StartRedis
// must have started. The forward router is the layout of oauth2-proxy's
// Traefik guide (see writeForward): forwardAuth to oauth2-proxy's static
// upstream, copying its X-Auth-Request-* and Authorization headers onto the
// request, an errors middleware sending a 401 or 403 to its sign-in page,
// and /oauth2/ on the same host routed to oauth2-proxy. ForwardAuth calls
// oauth2-proxy directly, as in a Compose file, not through Traefik.
func (s *Stack) Dynamic(routers ...string) string {
	var r, m strings.Builder
	services := appService(s.App.URL)
	for _, name := range routers {
		switch name {
		case None:
			writeRouter(&r, None, Host(None), "", "app")
		case Gatehouse:
			writeRouter(&r, Gatehouse, Host(Gatehouse), Gatehouse, "app")
			m.WriteString(s.gatehouseMiddleware(Gatehouse))
		case GatehouseBearer:
			writeRouter(&r, GatehouseBearer, Host(GatehouseBearer), GatehouseBearer, "app")
			m.WriteString(s.gatehouseMiddleware(GatehouseBearer, "skipJWTBearerTokens: \"true\""))
		case GatehouseRedis:
			if s.Redis == nil {
				panic("bench: Dynamic: the router gatehouse-redis without StartRedis")
			}
			writeRouter(&r, GatehouseRedis, Host(GatehouseRedis), GatehouseRedis, "app")
			m.WriteString(s.gatehouseMiddleware(GatehouseRedis, "sessionStoreType: \"redis\"", fmt.Sprintf("redisConnectionURL: %q", s.Redis.URL())))
		case Noop, Reference:
			writeRouter(&r, name, Host(name), name, "app")
			fmt.Fprintf(&m, "    %s:\n      plugin:\n        %s:\n          noop: %q\n          cookie: %q\n          user: \"u-reference\"\n          email: %q\n",
				name, ReferenceAlias, strconv.FormatBool(name == Noop), ReferenceSession.Header(), Email)
		case Forward:
			services += writeForward(&r, &m, Forward, s.Proxy.Addr)
		default:
			v, ok := s.variants[name]
			switch {
			case !ok:
				panic("bench: Dynamic: unknown router " + name)
			case v.proxy != nil:
				services += writeForward(&r, &m, name, v.proxy.Addr)
			default:
				writeRouter(&r, name, Host(name), name, "app")
				m.WriteString(s.gatehouseMiddleware(name, v.options...))
			}
		}
	}
	return assemble(r.String(), m.String(), services)
}

// DynamicMany returns a dynamic configuration of n routers on the hosts
// r0.localhost, r1.localhost, …, all to the app, all using one Gatehouse
// middleware when withPlugin is set, else none.
func (s *Stack) DynamicMany(n int, withPlugin bool) string {
	var r, m strings.Builder
	middleware := ""
	if withPlugin {
		middleware = Gatehouse
		m.WriteString(s.gatehouseMiddleware(Gatehouse))
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("r%d", i)
		writeRouter(&r, name, name+".localhost", middleware, "app")
	}
	services := appService(s.App.URL)
	return assemble(r.String(), m.String(), services)
}

// ForwardDynamic returns a dynamic configuration of router alone, on its
// Host, in the layout of Forward (see writeForward) asking the Stack's
// oauth2-proxy, which sends what it lets through to the app at appURL: for
// a test that has an app of its own, or that needs the host (router "app"
// answers on app.localhost) for a configuration replacing this one.
func (s *Stack) ForwardDynamic(router, appURL string) string {
	var r, m strings.Builder
	services := appService(appURL) + writeForward(&r, &m, router, s.Proxy.Addr)
	return assemble(r.String(), m.String(), services)
}

// appService returns the service "app", the app at url, for the services
// section.
func appService(url string) string {
	return fmt.Sprintf("    app:\n      loadBalancer:\n        servers:\n          - url: %q\n", url)
}

// gatehouseMiddleware returns the Gatehouse middleware called name, with
// the options oauth2-proxy is given and then options, each a line "option:
// value".
func (s *Stack) gatehouseMiddleware(name string, options ...string) string {
	var extra strings.Builder
	for _, o := range options {
		extra.WriteString("          " + o + "\n")
	}
	return fmt.Sprintf(`    %s:
      plugin:
        %s:
          oidcIssuerURL: %q
          clientID: "gatehouse"
          clientSecret: "secret"
          cookieSecret: %q
          cookieSecure: "false"
          emailDomains: "example.com"
          skipProviderButton: "true"
          passAuthorizationHeader: "true"
%s`, name, harness.Alias, s.IdP.Issuer(), s.CookieSecret, extra.String())
}

// writeForward writes the layout of oauth2-proxy's Traefik guide for the
// oauth2-proxy at addr: the router called router, on its Host, asks it
// through the forwardAuth middleware <router>-auth, copying its
// X-Auth-Request-* and Authorization headers onto the request, and the
// errors middleware <router>-errors sends a 401 or 403 to its sign-in page;
// the router <router>-oauth2 sends /oauth2/ on the same host to it. It
// returns the service <router>-oauth2-proxy, for the services section.
func writeForward(r, m *strings.Builder, router, addr string) string {
	service := router + "-oauth2-proxy"
	writeRouter(r, router, Host(router), router+"-errors, "+router+"-auth", "app")
	fmt.Fprintf(r, "    %s-oauth2:\n      entryPoints: [web]\n      rule: \"Host(`%s`) && PathPrefix(`/oauth2/`)\"\n      service: %s\n", router, Host(router), service)
	fmt.Fprintf(m, `    %[1]s-auth:
      forwardAuth:
        address: "http://%[2]s/"
        authResponseHeaders:
          - X-Auth-Request-User
          - X-Auth-Request-Email
          - X-Auth-Request-Groups
          - X-Auth-Request-Preferred-Username
          - Authorization
    %[1]s-errors:
      errors:
        status: ["401-403"]
        service: %[3]s
        query: "/oauth2/sign_in?rd={url}"
`, router, addr, service)
	return fmt.Sprintf("    %s:\n      loadBalancer:\n        servers:\n          - url: \"http://%s\"\n", service, addr)
}

// writeRouter writes a router on the entry point web for host; middlewares
// is a comma-separated list of names, or "" for none.
func writeRouter(b *strings.Builder, name, host, middlewares, service string) {
	fmt.Fprintf(b, "    %s:\n      entryPoints: [web]\n      rule: \"Host(`%s`)\"\n", name, host)
	if middlewares != "" {
		fmt.Fprintf(b, "      middlewares: [%s]\n", middlewares)
	}
	fmt.Fprintf(b, "      service: %s\n", service)
}

// assemble puts the sections of a dynamic configuration together.
func assemble(routers, middlewares, services string) string {
	out := "http:\n  routers:\n" + routers
	if middlewares != "" {
		out += "  middlewares:\n" + middlewares
	}
	return out + "  services:\n" + services
}
