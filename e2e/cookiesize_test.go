package e2e

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/e2e/bench"
	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// TestSessionCookiesNoLargerThanOAuth2Proxy signs in through Gatehouse and
// through oauth2-proxy v7.15.6 behind ForwardAuth, with the same provider
// and the same tokens, and compares the session cookies each leaves in the
// browser: Gatehouse's may take no more bytes (name=value of every chunk)
// and no more chunks. The tokens repeat their claims as Entra ID's and
// Keycloak's do: the same groups in the ID token and the access token.
// oauth2-proxy compresses its session (MessagePack and LZ4), so a session
// stored without compression loses here.
func TestSessionCookiesNoLargerThanOAuth2Proxy(t *testing.T) {
	stack, err := bench.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	tr := startTraefik(t, harness.Options{Dynamic: stack.Dynamic(bench.Gatehouse, bench.Forward)})
	browser, err := bench.NewBrowser(tr.Addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range bench.GroupCases() {
		t.Run(tc.Name, func(t *testing.T) {
			if err := stack.UseGroups(tc.Groups); err != nil {
				t.Fatal(err)
			}
			c, err := bench.CompareSessions(browser)
			if err != nil {
				t.Fatal(err)
			}
			g, p := c.Gatehouse, c.OAuth2Proxy
			t.Logf("Gatehouse: %d bytes in %d chunks; oauth2-proxy: %d bytes in %d chunks", g.Bytes(), g.Chunks(), p.Bytes(), p.Chunks())
			if tc.OAuth2ProxyChunks != 0 && p.Chunks() != tc.OAuth2ProxyChunks {
				t.Fatalf("oauth2-proxy's session takes %d chunks (%d bytes), want %d: change bench.GroupCases so that this case measures what it says",
					p.Chunks(), p.Bytes(), tc.OAuth2ProxyChunks)
			}
			if g.Bytes() > p.Bytes() || g.Chunks() > p.Chunks() {
				t.Errorf("Gatehouse's session cookies take %d bytes in %d chunks, oauth2-proxy's %d bytes in %d chunks for the same tokens; want Gatehouse's no larger",
					g.Bytes(), g.Chunks(), p.Bytes(), p.Chunks())
			}
		})
	}
}
