package bench

import (
	"fmt"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// variant is a router of Dynamic beyond the constants: another oauth2-proxy
// behind ForwardAuth, or Gatehouse with more options.
type variant struct {
	// proxy, when set, is the oauth2-proxy the router asks as Forward asks
	// the Stack's Proxy.
	proxy *harness.OAuth2Proxy
	// options are the options, each "option: value", added to the
	// middleware of a Gatehouse router.
	options []string
}

// StartOAuth2Proxy starts another oauth2-proxy, keeping its log in dir,
// with the flags the Stack's Proxy has (see oauth2ProxyFlags) followed by
// extra, and adds router to Dynamic: the layout of the router Forward,
// asking this oauth2-proxy. A flag of extra that the Stack's flags also
// set overrides theirs (--cookie-secret=... gives it another secret). Close
// stops it.
func (s *Stack) StartOAuth2Proxy(router, dir string, extra ...string) (*harness.OAuth2Proxy, error) {
	if err := s.checkNewRouter(router); err != nil {
		return nil, err
	}
	p, err := harness.StartOAuth2Proxy(dir, append(oauth2ProxyFlags(s.IdP.Issuer(), s.CookieSecret), extra...)...)
	if err != nil {
		return nil, err
	}
	s.addVariant(router, variant{proxy: p})
	return p, nil
}

// AddGatehouse adds router to Dynamic: Gatehouse with the options of the
// router Gatehouse, and then options, each a line "option: value" such as
// `cookieExpire: "2s"`, on a middleware of its own.
func (s *Stack) AddGatehouse(router string, options ...string) error {
	if err := s.checkNewRouter(router); err != nil {
		return err
	}
	s.addVariant(router, variant{options: options})
	return nil
}

// checkNewRouter returns an error if Dynamic already knows router: one of
// the constants, or a variant added before.
func (s *Stack) checkNewRouter(router string) error {
	switch router {
	case None, Gatehouse, GatehouseRedis, GatehouseBearer, Forward, Noop, Reference:
		return fmt.Errorf("bench: router %s is one of the Stack's own", router)
	}
	if _, ok := s.variants[router]; ok {
		return fmt.Errorf("bench: router %s added twice", router)
	}
	return nil
}

// addVariant records v under router.
func (s *Stack) addVariant(router string, v variant) {
	if s.variants == nil {
		s.variants = make(map[string]variant)
	}
	s.variants[router] = v
}
