package oauth

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// TestMissingEmailVerifiedIsAccepted states a decision: many providers
// (Entra ID among them) never send email_verified, and oauth2-proxy accepts
// its absence too. Only a value that is there and does not say true refuses.
func TestMissingEmailVerifiedIsAccepted(t *testing.T) {
	for _, source := range []string{"id token", "userinfo"} {
		claims := map[string]any{"sub": "u-1", "email": "a@x"}
		var info map[string]any
		if source == "userinfo" {
			claims = map[string]any{"sub": "u-1"}
			info = map[string]any{"sub": "u-1", "email": "a@x"}
		}
		id, err := defaultRules().identity(claims, info)
		if err != nil || id.Email != "a@x" {
			t.Errorf("identity() without email_verified in the %s = %+v, %v, want a@x accepted", source, id, err)
		}
	}
}

func TestIdentity(t *testing.T) {
	tests := []struct {
		name     string
		claims   map[string]any
		info     map[string]any
		verified any // email_verified beside the email; absent when nil
		want     Identity
		err      error
	}{
		{name: "true", verified: true, want: Identity{Subject: "u-1", User: "u-1", Email: "a@x"}},
		{name: "\"true\"", verified: "true", want: Identity{Subject: "u-1", User: "u-1", Email: "a@x"}},
		{name: "\"True\"", verified: "True", want: Identity{Subject: "u-1", User: "u-1", Email: "a@x"}},
		{name: "false", verified: false, err: ErrRejected},
		{name: "\"false\"", verified: "false", err: ErrRejected},
		{name: "\"FALSE\"", verified: "FALSE", err: ErrRejected},
		{name: "\" false\"", verified: " false", err: ErrRejected},
		{name: "0", verified: float64(0), err: ErrRejected},
		{name: "1", verified: float64(1), err: ErrRejected},
		{name: "\"\"", verified: "", err: ErrRejected},
		{name: "an object", verified: map[string]any{"value": true}, err: ErrRejected},
		{name: "a list", verified: []any{true}, err: ErrRejected},
		{name: "null", claims: map[string]any{"sub": "u-1", "email": "a@x", "email_verified": nil}, want: Identity{Subject: "u-1", User: "u-1", Email: "a@x"}},
		{name: "email from userinfo, verified there", claims: map[string]any{"sub": "u-1", "email_verified": false},
			info: map[string]any{"sub": "u-1", "email": "b@x", "email_verified": true}, want: Identity{Subject: "u-1", User: "u-1", Email: "b@x"}},
		{name: "email from userinfo, false there", claims: map[string]any{"sub": "u-1", "email_verified": true},
			info: map[string]any{"sub": "u-1", "email": "b@x", "email_verified": "false"}, err: ErrRejected},
		{name: "email in the id token, false there", claims: map[string]any{"sub": "u-1", "email": "a@x", "email_verified": false},
			info: map[string]any{"sub": "u-1", "email": "b@x", "email_verified": true}, err: ErrRejected},
		{name: "email not a string", claims: map[string]any{"sub": "u-1", "email": []any{"a@x"}}, err: ErrRejected},
		{name: "every claim", claims: map[string]any{"sub": "u-1", "email": "a@x", "preferred_username": "a", "groups": []any{"g1", "", 3, nil, "g2", []any{"g3"}}},
			want: Identity{Subject: "u-1", User: "u-1", Email: "a@x", PreferredUsername: "a", Groups: []string{"g1", "g2"}}},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			claims := tt.claims
			if claims == nil {
				claims = map[string]any{"sub": "u-1", "email": "a@x", "email_verified": tt.verified}
			}
			id, err := defaultRules().identity(claims, tt.info)
			wantErr(t, fmt.Sprintf("identity(%v, %v)", claims, tt.info), err, tt.err)
			if tt.err == nil && !reflect.DeepEqual(id, tt.want) {
				t.Errorf("identity(%v, %v) = %+v, want %+v", claims, tt.info, id, tt.want)
			}
		})
	}
}

// jsonClaims decodes s as a token's claims are decoded: objects become
// map[string]any, arrays []any, numbers float64.
func jsonClaims(t *testing.T, s string) map[string]any {
	t.Helper()
	if s == "" {
		return nil
	}
	var claims map[string]any
	if err := json.Unmarshal([]byte(s), &claims); err != nil {
		t.Fatalf("decoding claims %s: %v", s, err)
	}
	return claims
}

// encode returns v as JSON, for messages and comparisons.
func encode(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestClaimPath(t *testing.T) {
	tests := []struct {
		name   string
		claims string
		want   string // the value found, as JSON
	}{
		{"email", `{"email":"a@x"}`, `"a@x"`},
		{"email", `{}`, `null`},
		{"profile.mail", `{"profile":{"mail":"n@x"}}`, `"n@x"`},
		{"a.b.c", `{"a":{"b":{"c":["x","y"]}}}`, `["x","y"]`},
		// A claim whose own name holds a dot wins over the path.
		{"profile.mail", `{"profile.mail":"l@x","profile":{"mail":"n@x"}}`, `"l@x"`},
		{"profile.mail", `{"profile.mail":null,"profile":{"mail":"n@x"}}`, `null`},
		{"profile.mail", `{"profile":{}}`, `null`},
		{"profile.mail", `{"mail":"a@x"}`, `null`},
		{"profile.mail", `{"profile":"mail"}`, `null`},
		{"profile.mail", `{"profile":[{"mail":"a@x"}]}`, `null`},
		// Array indexes are not part of a path.
		{"groups.0", `{"groups":["a"]}`, `null`},
		{"a.b.c", `{"a":{"b":"c"}}`, `null`},
	}
	for _, tt := range tests {
		claims := jsonClaims(t, tt.claims)
		got := encode(t, newClaimPath(tt.name).lookup(claims))
		if got != tt.want {
			t.Errorf("claimPath(%q).lookup(%s) = %s, want %s", tt.name, tt.claims, got, tt.want)
		}
	}
}

func TestIdentityClaimOptions(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		claims string
		info   string // userinfo's answer; "" when not asked
		want   Identity
		err    error
	}{
		{
			name:   "defaults",
			claims: `{"sub":"u-1","email":"a@x","groups":["g"],"preferred_username":"al"}`,
			want:   Identity{Subject: "u-1", User: "u-1", Email: "a@x", PreferredUsername: "al", Groups: []string{"g"}},
		},
		{
			name:   "nested email",
			cfg:    Config{EmailClaim: "profile.mail"},
			claims: `{"sub":"u-1","email":"top@x","profile":{"mail":"n@x"}}`,
			want:   Identity{Subject: "u-1", User: "u-1", Email: "n@x"},
		},
		{
			name:   "nested email missing",
			cfg:    Config{EmailClaim: "profile.mail"},
			claims: `{"sub":"u-1","email":"top@x","profile":{}}`,
			err:    ErrRejected,
		},
		{
			name:   "nested email from userinfo",
			cfg:    Config{EmailClaim: "profile.mail"},
			claims: `{"sub":"u-1"}`,
			info:   `{"sub":"u-1","profile":{"mail":"n@x"}}`,
			want:   Identity{Subject: "u-1", User: "u-1", Email: "n@x"},
		},
		{
			name:   "nested groups",
			cfg:    Config{GroupsClaim: "ext.groups"},
			claims: `{"sub":"u-1","email":"a@x","groups":["top"],"ext":{"groups":["g1","g2"]}}`,
			want:   Identity{Subject: "u-1", User: "u-1", Email: "a@x", Groups: []string{"g1", "g2"}},
		},
		{
			name:   "nested groups as a string",
			cfg:    Config{GroupsClaim: "ext.groups"},
			claims: `{"sub":"u-1","email":"a@x","ext":{"groups":"g1"}}`,
			want:   Identity{Subject: "u-1", User: "u-1", Email: "a@x", Groups: []string{"g1"}},
		},
		{
			name:   "nested groups with members not strings",
			cfg:    Config{GroupsClaim: "ext.groups"},
			claims: `{"sub":"u-1","email":"a@x","ext":{"groups":[1,"a",null,{"b":"c"},["d"],true,"","e"]}}`,
			want:   Identity{Subject: "u-1", User: "u-1", Email: "a@x", Groups: []string{"a", "e"}},
		},
		{
			name:   "nested groups missing",
			cfg:    Config{GroupsClaim: "ext.groups"},
			claims: `{"sub":"u-1","email":"a@x","ext":"groups"}`,
			want:   Identity{Subject: "u-1", User: "u-1", Email: "a@x"},
		},
		{
			name:   "nested groups as an object",
			cfg:    Config{GroupsClaim: "ext.groups"},
			claims: `{"sub":"u-1","email":"a@x","ext":{"groups":{"g":true}}}`,
			want:   Identity{Subject: "u-1", User: "u-1", Email: "a@x"},
		},
		{
			name:   "groups under a literal dotted name",
			cfg:    Config{GroupsClaim: "ext.groups"},
			claims: `{"sub":"u-1","email":"a@x","ext.groups":["lit"],"ext":{"groups":["nested"]}}`,
			want:   Identity{Subject: "u-1", User: "u-1", Email: "a@x", Groups: []string{"lit"}},
		},
		{
			name:   "Keycloak realm roles as groups",
			cfg:    Config{GroupsClaim: "realm_access.roles"},
			claims: `{"sub":"u-1","email":"a@x","realm_access":{"roles":["admin"]}}`,
			want:   Identity{Subject: "u-1", User: "u-1", Email: "a@x", Groups: []string{"admin"}, Roles: []string{"admin"}},
		},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			claims := jsonClaims(t, tt.claims)
			id, err := NewOIDC(tt.cfg).rules.identity(claims, jsonClaims(t, tt.info))
			wantErr(t, fmt.Sprintf("identity(%s, %s)", tt.claims, tt.info), err, tt.err)
			if tt.err == nil && !reflect.DeepEqual(id, tt.want) {
				t.Errorf("identity(%s, %s) = %+v, want %+v", tt.claims, tt.info, id, tt.want)
			}
		})
	}
}

func TestAllowUnverifiedEmail(t *testing.T) {
	tests := []struct {
		verified string // email_verified as JSON; "" when absent
		refused  bool   // by default, AllowUnverifiedEmail false
	}{
		{`true`, false},
		{`"true"`, false},
		{`false`, true},
		{`"false"`, true},
		{`0`, true},
		{`null`, false},
		{``, false},
	}
	for _, tt := range tests {
		claims := `{"sub":"u-1","email":"a@x"}`
		if tt.verified != "" {
			claims = `{"sub":"u-1","email":"a@x","email_verified":` + tt.verified + `}`
		}
		for _, allow := range []bool{false, true} {
			var want error
			if tt.refused && !allow {
				want = ErrRejected
			}
			rules := NewOIDC(Config{AllowUnverifiedEmail: allow}).rules
			_, err := rules.identity(jsonClaims(t, claims), nil)
			wantErr(t, fmt.Sprintf("identity(%s) with AllowUnverifiedEmail %v", claims, allow), err, want)
			// The same from userinfo, beside an ID token without an email
			// whose email_verified says the opposite and must not count.
			idToken := `{"sub":"u-1","email_verified":false}`
			if tt.refused {
				idToken = `{"sub":"u-1","email_verified":true}`
			}
			_, err = rules.identity(jsonClaims(t, idToken), jsonClaims(t, claims))
			wantErr(t, fmt.Sprintf("identity(%s, userinfo %s) with AllowUnverifiedEmail %v", idToken, claims, allow), err, want)
		}
	}
}

func TestAppendRoles(t *testing.T) {
	tests := []struct {
		name   string
		claims string
		want   []string
	}{
		{"none", `{"groups":["g"]}`, nil},
		{"roles claim", `{"roles":["Reader","Writer"]}`, []string{"Reader", "Writer"}},
		{"roles claim as a string", `{"roles":"Reader"}`, []string{"Reader"}},
		{"roles claim with members not strings", `{"roles":[1,"",null,{"a":"b"},"Reader"]}`, []string{"Reader"}},
		{"roles claim as an object", `{"roles":{"Reader":true}}`, nil},
		{"realm roles", `{"realm_access":{"roles":["admin","user"]}}`, []string{"admin", "user"}},
		{"realm roles as a string", `{"realm_access":{"roles":"admin"}}`, []string{"admin"}},
		{"realm_access not an object", `{"realm_access":["admin"]}`, nil},
		{"realm_access.roles as a literal name", `{"realm_access.roles":["admin"]}`, nil},
		{"client roles in client order", `{"resource_access":{"c":{"roles":["x"]},"a":{"roles":["y","z"]},"e":{"roles":"v"},"b":{"roles":["w"]},"d":{"roles":["u"]}}}`,
			[]string{"a:y", "a:z", "b:w", "c:x", "d:u", "e:v"}},
		{"client roles with odd members", `{"resource_access":{"a":"admin","b":{"roles":"solo"},"c":{"roles":[1,""]},"d":{},"e":null}}`,
			[]string{"b:solo"}},
		{"resource_access not an object", `{"resource_access":[{"roles":["x"]}]}`, nil},
		{"every source, each role once", `{"roles":["admin"],"realm_access":{"roles":["admin","user","user"]},"resource_access":{"app":{"roles":["admin"]}}}`,
			[]string{"admin", "user", "app:admin"}},
	}
	for _, tt := range tests {
		got := appendRoles(nil, jsonClaims(t, tt.claims))
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("appendRoles(nil, %s) = %q, want %q", tt.claims, got, tt.want)
		}
	}
	got := appendRoles([]string{"admin", "x"}, jsonClaims(t, `{"realm_access":{"roles":["admin","user"]}}`))
	if want := []string{"admin", "x", "user"}; !reflect.DeepEqual(got, want) {
		t.Errorf("appendRoles([admin x], realm roles [admin user]) = %q, want %q", got, want)
	}
}

func TestIdentityOf(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		claims string
		want   Identity
		err    error
	}{
		{
			name:   "every claim",
			claims: `{"sub":"u-1","email":"a@x","email_verified":true,"preferred_username":"al","groups":["g"],"realm_access":{"roles":["admin"]},"resource_access":{"app":{"roles":["r"]}}}`,
			want:   Identity{Subject: "u-1", User: "u-1", Email: "a@x", PreferredUsername: "al", Groups: []string{"g"}, Roles: []string{"admin", "app:r"}},
		},
		{
			name:   "no email: the sub stands in",
			claims: `{"sub":"svc-1","groups":"g"}`,
			want:   Identity{Subject: "svc-1", User: "svc-1", Email: "svc-1", Groups: []string{"g"}},
		},
		{
			name:   "claim options",
			cfg:    Config{EmailClaim: "ext.mail", GroupsClaim: "ext.teams"},
			claims: `{"sub":"u-1","email":"top@x","ext":{"mail":"n@x","teams":["t"]}}`,
			want:   Identity{Subject: "u-1", User: "u-1", Email: "n@x", Groups: []string{"t"}},
		},
		{name: "no sub", claims: `{"email":"a@x"}`, err: ErrRejected},
		{name: "sub not a string", claims: `{"sub":1,"email":"a@x"}`, err: ErrRejected},
		{name: "email_verified false", claims: `{"sub":"u-1","email":"a@x","email_verified":false}`, err: ErrRejected},
		{name: "email_verified false without an email", claims: `{"sub":"u-1","email_verified":"false"}`, err: ErrRejected},
		{
			name:   "email_verified false, allowed",
			cfg:    Config{AllowUnverifiedEmail: true},
			claims: `{"sub":"u-1","email":"a@x","email_verified":false}`,
			want:   Identity{Subject: "u-1", User: "u-1", Email: "a@x"},
		},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			p := NewOIDC(tt.cfg)
			id, err := p.IdentityOf(jsonClaims(t, tt.claims))
			wantErr(t, fmt.Sprintf("IdentityOf(%s)", tt.claims), err, tt.err)
			if tt.err == nil && !reflect.DeepEqual(id, tt.want) {
				t.Errorf("IdentityOf(%s) = %+v, want %+v", tt.claims, id, tt.want)
			}
		})
	}
}
