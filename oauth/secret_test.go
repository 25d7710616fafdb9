package oauth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testclock"
)

// The secrets of these tests are distinctive, so that finding one in a log
// line or an error is never a coincidence.
const (
	secretA = "s3cr3t-aaaa-7f1e"
	secretB = "s3cr3t-bbbb-7f1e"
	secretC = "s3cr3t-cccc-7f1e"
	secretD = "s3cr3t-dddd-7f1e"
)

var allSecrets = []string{secretA, secretB, secretC, secretD}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestClientSecretFile(t *testing.T) {
	f := newFixture(t)
	f.p.SetClient("gatehouse", secretA)
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
		want    error
		tokens  int // token requests the sign-in makes
	}{
		{"trailing newline", secretA + "\n", nil, 1},
		{"trailing CRLF", secretA + "\r\n", nil, 1},
		{"no newline", secretA, nil, 1},
		{"wrong secret: refused, read again, unchanged, not retried", secretB + "\n", ErrUnavailable, 1},
	}
	for i, tt := range tests {
		tt := tt
		path := filepath.Join(dir, fmt.Sprintf("secret%d", i))
		t.Run(tt.name, func(t *testing.T) {
			writeFile(t, path, tt.content)
			var logs logRecorder
			o := f.newOIDC(func(c *Config) {
				c.ClientSecret = "ignored"
				c.ClientSecretFile = path
				c.Logf = logs.logf
			})
			before := f.p.Requests("token")
			_, _, err := f.signIn(t, o)
			wantErr(t, "sign-in", err, tt.want)
			if n := f.p.Requests("token") - before; n != tt.tokens {
				t.Errorf("sign-in made %d token requests, want %d", n, tt.tokens)
			}
			if err != nil {
				wantNoSecrets(t, "sign-in error", err.Error(), allSecrets...)
			}
			if len(logs.Lines()) != 0 {
				t.Errorf("logged %q, want nothing", logs.Lines())
			}
		})
	}
}

func TestClientSecretFileFirstUse(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string // "-" means no file
	}{
		{"missing", "-"},
		{"empty", ""},
		{"only a newline", "\n"},
		{"only a CRLF", "\r\n"},
	}
	for i, tt := range tests {
		tt := tt
		path := filepath.Join(dir, fmt.Sprintf("secret%d", i))
		t.Run(tt.name, func(t *testing.T) {
			if tt.content != "-" {
				writeFile(t, path, tt.content)
			}
			var logs logRecorder
			o := f.newOIDC(func(c *Config) { c.ClientSecretFile = path; c.Logf = logs.logf })
			for try := 0; try < 2; try++ {
				_, _, err := f.signIn(t, o)
				if err == nil || errors.Is(err, ErrRejected) || errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "clientSecretFile") {
					t.Errorf("sign-in with clientSecretFile %s = %v, want a configuration error naming clientSecretFile", tt.name, err)
				}
			}
			if len(logs.Lines()) != 0 {
				t.Errorf("logged %q, want nothing: the error goes to the caller", logs.Lines())
			}
			// Without a good secret there is no interval to wait for.
			writeFile(t, path, "secret\n")
			_, _, err := f.signIn(t, o)
			wantErr(t, "sign-in once the file is fixed", err, nil)
		})
	}
}

func TestSecretRecheck(t *testing.T) {
	tests := []struct {
		name     string
		recheck  time.Duration
		advance  time.Duration
		wantNext bool
	}{
		{"default, within 5 s", 0, 5*time.Second - time.Nanosecond, false},
		{"default, after 5 s", 0, 5 * time.Second, true},
		{"one minute, within", time.Minute, 59 * time.Second, false},
		{"one minute, after", time.Minute, time.Minute, true},
		{"negative: at every use", -1, 0, true},
		{"clock gone backwards", time.Minute, -time.Second, true},
	}
	for i, tt := range tests {
		tt := tt
		path := filepath.Join(t.TempDir(), fmt.Sprintf("secret%d", i))
		t.Run(tt.name, func(t *testing.T) {
			clk := testclock.New()
			o := NewOIDC(Config{ClientSecretFile: path, SecretRecheck: tt.recheck, Now: clk.Now})
			writeFile(t, path, secretA)
			if got, err := o.secret(); got != secretA || err != nil {
				t.Fatalf("secret() = %q, %v, want %q", got, err, secretA)
			}
			writeFile(t, path, secretB+"-longer")
			clk.Advance(tt.advance)
			want := secretA
			if tt.wantNext {
				want = secretB + "-longer"
			}
			if got, err := o.secret(); got != want || err != nil {
				t.Errorf("secret() after %v = %q, %v, want %q", tt.advance, got, err, want)
			}
		})
	}
}

// TestClientSecretRotatedAtProvider rotates the secret at the provider and
// in the file at once, with an interval too long to notice the file: the
// provider's refusal makes the client read the file and try once more.
func TestClientSecretRotatedAtProvider(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "client-secret")
	writeFile(t, path, secretA+"\n")
	f.p.SetClient("gatehouse", secretA)
	var logs logRecorder
	o := f.newOIDC(func(c *Config) {
		c.ClientSecret = ""
		c.ClientSecretFile = path
		c.SecretRecheck = 24 * time.Hour
		c.Logf = logs.logf
	})
	first, _, err := f.signIn(t, o)
	wantErr(t, "sign-in", err, nil)

	rotate := func(secret string) {
		f.p.SetClient("gatehouse", secret)
		writeFile(t, path, secret+"\n")
	}
	steps := []struct {
		name     string
		rotate   string // "" rotates nothing
		inFile   bool   // false: rotated at the provider only
		refresh  bool   // false: a sign-in
		want     error
		requests int // to the token endpoint for this step
	}{
		{name: "sign-in after rotation", rotate: secretB, inFile: true, requests: 2},
		{name: "sign-in with the new secret", requests: 1},
		{name: "refresh after rotation", rotate: secretC, inFile: true, refresh: true, requests: 2},
		{name: "refresh with the new secret", refresh: true, requests: 1},
		{name: "rotated at the provider only", rotate: secretD, want: ErrUnavailable, requests: 1},
		{name: "refresh, rotated at the provider only", refresh: true, want: ErrUnavailable, requests: 1},
	}
	refreshToken := first.RefreshToken
	for i := 0; i < len(steps); i++ {
		step := steps[i]
		if step.rotate != "" && step.inFile {
			rotate(step.rotate)
		}
		if step.rotate != "" && !step.inFile {
			f.p.SetClient("gatehouse", step.rotate)
		}
		endpoint := "token"
		if step.refresh {
			endpoint = "refresh"
		}
		before := f.p.Requests(endpoint)
		var err error
		if step.refresh {
			var tokens Tokens
			tokens, _, err = o.Refresh(context.Background(), refreshToken, "u-123")
			if err == nil {
				refreshToken = tokens.RefreshToken
			}
		} else {
			_, _, err = f.signIn(t, o)
		}
		wantErr(t, step.name, err, step.want)
		if err != nil {
			wantNoSecrets(t, step.name+" error", err.Error(), allSecrets...)
		}
		if n := f.p.Requests(endpoint) - before; n != step.requests {
			t.Errorf("%s: Requests(%s) grew by %d, want %d", step.name, endpoint, n, step.requests)
		}
	}
	if len(logs.Lines()) != 0 {
		t.Errorf("logged %q, want nothing", logs.Lines())
	}
}
