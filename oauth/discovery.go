package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// metadata is the part of the discovery document Gatehouse uses.
type metadata struct {
	issuer        string // exactly as the document says; ID tokens must carry it
	authURL       string
	tokenURL      string
	userinfoURL   string // "" when the provider has none
	jwksURL       string
	endSessionURL string // "" when the provider has none
}

// EndSessionEndpoint returns the provider's end_session_endpoint (RP-initiated
// logout), or "" when its discovery document names none. It performs
// discovery if not yet done.
func (p *OIDC) EndSessionEndpoint(ctx context.Context) (string, error) {
	m, _, err := p.discover(ctx)
	if err != nil {
		return "", err
	}
	return m.endSessionURL, nil
}

// discovered is a good discovery document and the key set it names.
type discovered struct {
	meta *metadata
	keys *keySet
}

// discover returns the provider's metadata and key set. The discovery
// document is fetched at first use and again at the first use after
// discoveryMaxAge (24 h); concurrent uses share one fetch and wait for it.
// The fetch runs on a context of its own, bounded by fetchTimeout, so a
// caller that goes away neither cancels it nor loses its result for the
// others; ctx only bounds the wait. A failed first fetch is answered from
// memory for discoveryRetry (5 s), so a down provider is not asked on every
// request. A failed re-fetch keeps the last good document in use (it names
// endpoints, not keys: an old one trusts nothing the provider withdrew),
// logs the failure through Config.Logf, and is tried again discoveryRetry
// later. A re-fetched document naming the same jwks_uri keeps the key set.
func (p *OIDC) discover(ctx context.Context) (*metadata, *keySet, error) {
	v, err := p.discovery.Do(ctx, "discovery", p.fetchDiscovery)
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return nil, nil, err
		}
		// The caller's ctx ended first, or the fetch panicked.
		return nil, nil, fmt.Errorf("%w: discovery: %v", ErrUnavailable, err)
	}
	d := v.(*discovered)
	return d.meta, d.keys, nil
}

// fetchDiscovery is discover's call: it fetches the document and returns
// the discovery to use and how long to keep it.
func (p *OIDC) fetchDiscovery() (any, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	m, err := fetchMetadata(ctx, p.client, p.issuer, !p.keysOnly)
	p.mu.Lock()
	last := p.last
	if err == nil {
		d := &discovered{meta: m}
		if last != nil && last.meta.jwksURL == m.jwksURL {
			d.keys = last.keys
		} else {
			d.keys = newKeySet(m.jwksURL, p.client, p.now)
		}
		p.last = d
		p.mu.Unlock()
		return d, discoveryMaxAge, nil
	}
	p.mu.Unlock()
	if last == nil {
		return nil, discoveryRetry, err
	}
	p.logf("%v; the last good discovery document stays in use", err)
	return last, discoveryRetry, nil
}

func fetchMetadata(ctx context.Context, client *http.Client, issuer string, codeFlow bool) (*metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, issuer+"/.well-known/openid-configuration", nil)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery: %v", ErrUnavailable, err)
	}
	body, _, err := get(client, req)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery: %v", ErrUnavailable, err)
	}
	m, err := parseMetadata(body, issuer, codeFlow)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery: %v", ErrUnavailable, err)
	}
	return m, nil
}

// parseMetadata decodes a discovery document and checks that it belongs to
// issuer and names its keys and, with codeFlow, the endpoints a code flow
// needs. An issuer whose tokens are only verified (extraJWTIssuers: CI
// systems, Kubernetes) may publish no authorization or token endpoint.
func parseMetadata(body []byte, issuer string, codeFlow bool) (*metadata, error) {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decoding document: %v", err)
	}
	var m metadata
	fields := []struct {
		name     string
		dst      *string
		required bool
	}{
		{"issuer", &m.issuer, true},
		{"authorization_endpoint", &m.authURL, codeFlow},
		{"token_endpoint", &m.tokenURL, codeFlow},
		{"jwks_uri", &m.jwksURL, true},
		{"userinfo_endpoint", &m.userinfoURL, false},
		{"end_session_endpoint", &m.endSessionURL, false},
	}
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		s, err := stringMember(doc, f.name)
		if err != nil {
			return nil, err
		}
		if s == "" {
			if f.required {
				return nil, fmt.Errorf("%s is missing", f.name)
			}
			continue
		}
		if f.name != "issuer" {
			if err := checkEndpoint(s); err != nil {
				return nil, fmt.Errorf("%s: %v", f.name, err)
			}
		}
		*f.dst = s
	}
	if strings.TrimSuffix(m.issuer, "/") != issuer {
		return nil, fmt.Errorf("issuer %q does not match the configured %q", m.issuer, issuer)
	}
	return &m, nil
}

// stringMember returns doc's member name, "" when absent or null. (A function of
// its own: inside a loop, yaegi leaves a failed type assertion's value at
// the previous iteration's.)
func stringMember(doc map[string]any, name string) (string, error) {
	v := doc[name]
	if v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s is not a string", name)
	}
	return s, nil
}

func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return errors.New("not an absolute http(s) URL")
	}
	return nil
}

// errTooLarge reports a response body beyond maxBody.
var errTooLarge = fmt.Errorf("response body larger than %d bytes", maxBody)

// get sends req and returns the body of a 200 answer, read through a
// maxBody limit. A non-200 answer is an error carrying its status code,
// which is also returned (0 when no answer came).
func get(client *http.Client, req *http.Request) ([]byte, int, error) {
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, fmt.Errorf("%s answered %d", req.URL.Path, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, resp.StatusCode, err
	}
	if len(body) > maxBody {
		return nil, resp.StatusCode, errTooLarge
	}
	return body, resp.StatusCode, nil
}
