package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// maxBearerToken bounds the length of a bearer token Verify reads. JWT
// access tokens are a few kilobytes even with many groups or roles; a
// longer token is refused before it is decoded.
const maxBearerToken = 16 << 10

// BearerIssuer is an issuer whose JWTs a BearerVerifier accepts, and the
// audiences such a token may be for: oauth2-proxy's configured OIDC issuer
// with the client ID, or one of its extraJWTIssuers ("issuer=audience").
type BearerIssuer struct {
	// IssuerURL is the issuer; its discovery document is at IssuerURL +
	// "/.well-known/openid-configuration". A trailing "/" is tolerated.
	IssuerURL string
	// Audiences are the audiences a token must name at least one of in its
	// aud claim. Empty strings are ignored; an issuer without an audience
	// is ignored too, so that it accepts no token.
	Audiences []string
}

// BearerConfig describes a BearerVerifier. Zero values get the documented defaults.
type BearerConfig struct {
	// Issuers are the issuers whose tokens are accepted. Issuers listed
	// more than once (a trailing "/" aside) accept the audiences of every
	// listing, as oauth2-proxy's verifiers, tried in turn, do.
	Issuers []BearerIssuer
	// HTTPClient fetches the issuers' discovery documents and key sets;
	// nil means a client with a 10 s timeout that follows no redirects.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logf reports a failed re-fetch of an issuer's discovery document (see
	// OIDC); it never receives a token. nil discards it.
	Logf func(format string, args ...any)
}

// BearerVerifier verifies the JWTs API clients send as bearer tokens
// against the key set of the issuer each token names, when that issuer is
// configured. NewBearerVerifier is offline: an issuer's discovery document
// and key set are fetched when a token first names it, and cached, fetched
// again and shared between concurrent callers as OIDC does for sign-in. A
// BearerVerifier is safe for concurrent use.
type BearerVerifier struct {
	issuers map[string]*bearerIssuer // by issuer URL without a trailing "/"
	now     func() time.Time
}

// bearerIssuer is one configured issuer.
type bearerIssuer struct {
	provider  *OIDC // discovers the issuer and caches its key set
	audiences []string
}

// NewBearerVerifier returns a verifier for cfg with its defaults filled in.
// It does no I/O.
func NewBearerVerifier(cfg BearerConfig) *BearerVerifier {
	v := &BearerVerifier{issuers: map[string]*bearerIssuer{}, now: cfg.Now}
	if v.now == nil {
		v.now = time.Now
	}
	for i := 0; i < len(cfg.Issuers); i++ {
		url := strings.TrimSuffix(cfg.Issuers[i].IssuerURL, "/")
		audiences := nonEmpty(cfg.Issuers[i].Audiences)
		if url == "" || len(audiences) == 0 {
			continue
		}
		is := v.issuers[url]
		if is == nil {
			provider := NewOIDC(Config{IssuerURL: url, HTTPClient: cfg.HTTPClient, Now: v.now, Logf: cfg.Logf})
			provider.keysOnly = true
			is = &bearerIssuer{provider: provider}
			v.issuers[url] = is
		}
		is.audiences = append(is.audiences, audiences...)
	}
	return v
}

// nonEmpty returns the strings of list that are not "".
func nonEmpty(list []string) []string {
	var out []string
	for i := 0; i < len(list); i++ {
		if list[i] != "" {
			out = append(out, list[i])
		}
	}
	return out
}

// Verify checks raw, a JWT sent as a bearer token, and returns its claims
// and its expiry (exp; the check tolerates a minute of clock skew past it).
//
// The issuer is chosen by the token's unverified iss, a trailing "/"
// aside; an issuer that is not configured is refused without any network
// I/O, so a client cannot make Gatehouse fetch a URL of its choice. Then
// only that issuer's keys verify the token: its alg must be RS*, PS* or
// ES* (never "none", never HMAC) and fit the key, found by kid (an unknown
// kid fetches the key set again, at most every 10 s); its iss must be the
// issuer's discovery document's to the letter, its aud must hold one of the
// issuer's audiences, exp is required, and exp, nbf and iat (those two when
// present) must hold on the clock, give or take a minute.
//
// A token that fails is refused with an error wrapping ErrRejected; a token
// that is not a compact JWS, or longer than 16 KiB, is refused before it is
// decoded, and one whose header names another alg, a kid that is not a
// string or critical extensions is refused before any fetch. An issuer whose discovery document or key set cannot be fetched
// gives an error wrapping ErrUnavailable. No error holds any part of the
// token. The caller must still decide who may pass: azp, sub, the email and
// email_verified are not checked here (an API client's token names that
// client as azp, not Gatehouse).
func (v *BearerVerifier) Verify(ctx context.Context, raw string) (map[string]any, time.Time, error) {
	header, payload, err := splitJWS(raw)
	if err != nil {
		return nil, time.Time{}, err
	}
	is := v.issuers[strings.TrimSuffix(stringClaim(payload, "iss"), "/")]
	if is == nil {
		return nil, time.Time{}, fmt.Errorf("%w: bearer token from an issuer not configured", ErrRejected)
	}
	alg, kid, err := keyID(header)
	if err != nil {
		return nil, time.Time{}, err
	}
	m, keys, err := is.provider.discover(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	key, err := keys.key(ctx, kid, alg)
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return nil, time.Time{}, err
		}
		// keys.key's own message quotes the kid.
		return nil, time.Time{}, fmt.Errorf("%w: bearer token: no key of the issuer fits its alg and kid", ErrRejected)
	}
	tok, err := jwt.Parse(raw, func(t *jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{alg}),
		jwt.WithIssuer(m.issuer),
		jwt.WithAudience(is.audiences...),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(v.now),
	)
	if err != nil {
		return nil, time.Time{}, parseError(err)
	}
	// jwt.Parse's claims are always MapClaims; it checked exp when present.
	claims, _ := tok.Claims.(jwt.MapClaims)
	exp, _ := claims.GetExpirationTime()
	if exp == nil {
		return nil, time.Time{}, fmt.Errorf("%w: bearer token has no exp", ErrRejected)
	}
	return map[string]any(claims), exp.Time, nil
}

// splitJWS returns the header and the payload of raw, a JWS in compact
// form no longer than maxBearerToken, decoded but not verified.
func splitJWS(raw string) (map[string]any, map[string]any, error) {
	if len(raw) > maxBearerToken {
		return nil, nil, fmt.Errorf("%w: bearer token longer than %d bytes", ErrRejected, maxBearerToken)
	}
	if strings.Count(raw, ".") != 2 {
		return nil, nil, fmt.Errorf("%w: bearer token is not a compact JWS", ErrRejected)
	}
	parts := strings.SplitN(raw, ".", 3)
	if parts[2] == "" {
		return nil, nil, fmt.Errorf("%w: bearer token is not signed", ErrRejected)
	}
	header, err := decodeSegment(parts[0])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: bearer token header: %v", ErrRejected, err)
	}
	payload, err := decodeSegment(parts[1])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: bearer token payload: %v", ErrRejected, err)
	}
	return header, payload, nil
}

// errSegment reports a JWS segment that is not a base64url-encoded JSON
// object. It is the only error decodeSegment returns: the decoders' own
// quote the input.
var errSegment = errors.New("not a base64url-encoded JSON object")

// decodeSegment decodes one segment of a compact JWS as jwt does: unpadded
// base64url holding a JSON object.
func decodeSegment(s string) (map[string]any, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errSegment
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, errSegment
	}
	return m, nil
}

// keyID returns the alg and the kid ("" when absent) a JWS header names.
// The alg must be one of signingAlgs; crit, which names extensions the
// token must not be accepted without understanding, must be absent, for
// Gatehouse understands none (RFC 7515 4.1.11).
func keyID(header map[string]any) (string, string, error) {
	alg := stringClaim(header, "alg")
	if !isSigningAlg(alg) {
		return "", "", fmt.Errorf("%w: bearer token alg is not an accepted signature algorithm", ErrRejected)
	}
	if _, present := header["crit"]; present {
		return "", "", fmt.Errorf("%w: bearer token names critical extensions", ErrRejected)
	}
	kid := ""
	if v, present := header["kid"]; present {
		s, ok := v.(string)
		if !ok {
			return "", "", fmt.Errorf("%w: bearer token kid is not a string", ErrRejected)
		}
		kid = s
	}
	return alg, kid, nil
}

// parseError turns jwt.Parse's error into one wrapping ErrRejected. Only
// jwt's messages about claims are kept: they name the claim that failed,
// never its value; the others may quote the token's header.
func parseError(err error) error {
	if errors.Is(err, jwt.ErrTokenInvalidClaims) {
		return fmt.Errorf("%w: bearer token: %v", ErrRejected, err)
	}
	if errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		return fmt.Errorf("%w: bearer token signature is invalid", ErrRejected)
	}
	return fmt.Errorf("%w: bearer token is malformed", ErrRejected)
}
