package oidctest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"

	"github.com/golang-jwt/jwt/v5"
)

// signingKey is the provider's current key.
type signingKey struct {
	alg     string
	kid     string
	private any // *rsa.PrivateKey or *ecdsa.PrivateKey
}

// newKey returns a fresh key for alg: RSA 2048 for RS* and PS*, ECDSA on
// the curve the ES* algorithm names.
func newKey(alg, kid string) (signingKey, error) {
	var private any
	var err error
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		private, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		private, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		private, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ES512":
		private, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	default:
		return signingKey{}, fmt.Errorf("oidctest: unsupported algorithm %q", alg)
	}
	if err != nil {
		return signingKey{}, fmt.Errorf("oidctest: generating a %s key: %v", alg, err)
	}
	return signingKey{alg: alg, kid: kid, private: private}, nil
}

// sign returns claims as a JWT signed with k, carrying k's kid.
func (k signingKey) sign(claims map[string]any) (string, error) {
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(k.alg), jwt.MapClaims(claims))
	tok.Header["kid"] = k.kid
	return tok.SignedString(k.private)
}

// jwk returns k's public half as a JSON Web Key.
func (k signingKey) jwk() map[string]any {
	out := map[string]any{"kid": k.kid, "alg": k.alg, "use": "sig"}
	switch priv := k.private.(type) {
	case *rsa.PrivateKey:
		out["kty"] = "RSA"
		out["n"] = b64(priv.N.Bytes())
		out["e"] = b64(big.NewInt(int64(priv.E)).Bytes())
	case *ecdsa.PrivateKey:
		size := (priv.Curve.Params().BitSize + 7) / 8
		out["kty"] = "EC"
		out["crv"] = priv.Curve.Params().Name
		out["x"] = b64(priv.X.FillBytes(make([]byte, size)))
		out["y"] = b64(priv.Y.FillBytes(make([]byte, size)))
	}
	return out
}

func b64(b []byte) string {
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("oidctest: reading random bytes: %v", err)
	}
	return b64(b), nil
}
