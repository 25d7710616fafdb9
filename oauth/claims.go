package oauth

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// identity builds the Identity from verified ID-token claims (see
// claimRules.identity), asking the userinfo endpoint for the email when the
// ID token has none, and adds the roles of the access token when
// accessTokenClaims accepts it: Keycloak puts them there, not in the ID
// token.
func (p *OIDC) identity(ctx context.Context, m *metadata, keys *keySet, claims map[string]any, accessToken string) (Identity, error) {
	var info map[string]any
	if p.rules.email.str(claims) == "" {
		sub, _ := claims["sub"].(string)
		var err error
		info, err = p.userinfo(ctx, m, accessToken, sub)
		if err != nil {
			return Identity{}, err
		}
	}
	id, err := p.rules.identity(claims, info)
	if err != nil {
		return Identity{}, err
	}
	if access := p.accessTokenClaims(m, keys, accessToken, id.Subject); access != nil {
		id.Roles = appendRoles(id.Roles, access)
	}
	return id, nil
}

// IdentityOf builds the Identity that the verified claims of a bearer
// token describe, by the rules of a sign-in (Config.EmailClaim,
// GroupsClaim, AllowUnverifiedEmail), with the roles of the
// claims themselves (a bearer token is an access token: Keycloak's roles
// are in it). It asks no userinfo endpoint: a token whose claims hold no
// email gets its sub as Email, as oauth2-proxy's bearer sessions do. It
// refuses, with ErrRejected, claims without a sub and an email_verified
// that does not say true (unless AllowUnverifiedEmail).
//
// IdentityOf checks nothing else: the caller must have verified the
// token's signature, issuer, audience and expiry.
func (p *OIDC) IdentityOf(claims map[string]any) (Identity, error) {
	id, _ := p.rules.read(claims, nil)
	if id.Subject == "" {
		return Identity{}, fmt.Errorf("%w: token has no sub", ErrRejected)
	}
	if err := p.rules.checkVerified(claims); err != nil {
		return Identity{}, err
	}
	if id.Email == "" {
		id.Email = id.Subject
	}
	return id, nil
}

// claimPath names a claim as oauth2-proxy's claim options do: a claim
// whose own name is the whole name wins; otherwise a name holding "." is a
// path through nested objects ("realm_access.roles"). Array indexes are
// not part of a path.
type claimPath struct {
	name  string   // the whole name, looked up first
	parts []string // name split at ".", nil when it holds none
}

func newClaimPath(name string) claimPath {
	c := claimPath{name: name}
	if strings.Contains(name, ".") {
		c.parts = strings.Split(name, ".")
	}
	return c
}

// lookup returns the value c names in claims, nil when there is none.
func (c claimPath) lookup(claims map[string]any) any {
	if v, ok := claims[c.name]; ok {
		return v
	}
	if c.parts == nil {
		return nil
	}
	var v any = claims
	for i := 0; i < len(c.parts); i++ {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[c.parts[i]]
	}
	return v
}

// str returns the value c names in claims when it is a string, else "".
func (c claimPath) str(claims map[string]any) string {
	s, _ := c.lookup(claims).(string)
	return s
}

// claimRules say how verified claims become an Identity: the claims that
// hold the email and the groups, and whether an unverified email is
// accepted.
type claimRules struct {
	email           claimPath
	groups          claimPath
	allowUnverified bool
}

// identity builds the Identity from verified claims and, when the claims
// hold no email, from info, the userinfo answer about the same subject
// (nil when not asked):
//   - Subject and User from sub (oauth2-proxy's user is always sub),
//     PreferredUsername from preferred_username;
//   - Email from the email claim in the claims, else in info; required;
//   - Groups from the groups claim (see listClaim);
//   - Roles from the claims (see appendRoles).
//
// Unless r.allowUnverified, the email_verified beside the email (in the
// claims, or in info when the email came from there) must be absent or
// null (many providers, Entra ID among them, never send it, and
// oauth2-proxy accepts that too; OpenID Connect Core 5.3.2: null is a claim
// not returned) or say true (see verified); else the sign-in is refused.
func (r claimRules) identity(claims, info map[string]any) (Identity, error) {
	id, source := r.read(claims, info)
	if id.Email == "" {
		return Identity{}, fmt.Errorf("%w: no %q claim in the id token or userinfo", ErrRejected, r.email.name)
	}
	if err := r.checkVerified(source); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// read reads the fields of the Identity as identity says, checking
// nothing, and returns with it the claims the email came from: info when
// the claims hold none, else the claims.
func (r claimRules) read(claims, info map[string]any) (Identity, map[string]any) {
	sub, _ := claims["sub"].(string)
	id := Identity{
		Subject:           sub,
		Email:             r.email.str(claims),
		User:              sub,
		PreferredUsername: stringClaim(claims, "preferred_username"),
		Groups:            listClaim(r.groups.lookup(claims)),
		Roles:             appendRoles(nil, claims),
	}
	source := claims
	if id.Email == "" && info != nil {
		id.Email = r.email.str(info)
		source = info
	}
	return id, source
}

// checkVerified refuses an email_verified in source that is there, not
// null, and does not say true, unless r.allowUnverified.
func (r claimRules) checkVerified(source map[string]any) error {
	if r.allowUnverified {
		return nil
	}
	if v := source["email_verified"]; v != nil && !verified(v) {
		return fmt.Errorf("%w: email is not verified", ErrRejected)
	}
	return nil
}

// appendRoles appends to roles those the claims grant and roles lacks: the
// members of a top-level "roles" claim (Entra ID's app roles), of
// Keycloak's realm_access.roles, and "<client>:<role>" for each member of
// resource_access.<client>.roles, for every client in name order, as
// oauth2-proxy's keycloak-oidc provider names client roles. Each source
// may be an array of strings or a single string (see listClaim); anything
// else adds nothing.
func appendRoles(roles []string, claims map[string]any) []string {
	roles = appendNew(roles, listClaim(claims["roles"]), "")
	realm, _ := claims["realm_access"].(map[string]any)
	roles = appendNew(roles, listClaim(realm["roles"]), "")
	resources, _ := claims["resource_access"].(map[string]any)
	clients := make([]string, 0, len(resources))
	for client := range resources {
		clients = append(clients, client)
	}
	sort.Strings(clients)
	for i := 0; i < len(clients); i++ {
		access, ok := resources[clients[i]].(map[string]any)
		if !ok {
			continue
		}
		roles = appendNew(roles, listClaim(access["roles"]), clients[i]+":")
	}
	return roles
}

// appendNew appends prefix+s to list for each s of add that list lacks.
func appendNew(list, add []string, prefix string) []string {
	for i := 0; i < len(add); i++ {
		s := prefix + add[i]
		if !slices.Contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}

// stringClaim returns the claim name when it is a string, else "".
func stringClaim(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

// listClaim reads a claim that is an array of strings or a single string;
// other members and empty strings are skipped.
func listClaim(v any) []string {
	switch c := v.(type) {
	case string:
		if c != "" {
			return []string{c}
		}
	case []any:
		var out []string
		for i := 0; i < len(c); i++ {
			if s, ok := c[i].(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// verified reports whether an email_verified value says true: the JSON
// true, or a string "true" in any case (some providers send strings). false
// in any spelling, numbers and anything else say no.
func verified(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return strings.EqualFold(b, "true")
	}
	return false
}
