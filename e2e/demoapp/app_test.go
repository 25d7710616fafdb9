package demoapp

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPageShowsHeaders(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/some/page?x=1", nil)
	req.Header.Set("X-Forwarded-User", "u-alice")
	req.Header.Set("X-Forwarded-Email", "alice@example.com")
	req.Header.Set("X-Forwarded-Groups", "admins,staff")
	req.Header.Set("X-Forwarded-Preferred-Username", "alice")
	req.Header.Set("X-Evil", `<script>alert("x")</script>`)
	req.Header.Add("X-Twice", "first")
	req.Header.Add("X-Twice", "second")
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)

	if rec.Code != http.StatusOK {
		t.Fatalf("GET /some/page = %d, want 200", rec.Code)
	}
	if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/html; charset=utf-8", got)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`Signed in as <strong>alice@example.com</strong>`,
		`<tr><th>X-Forwarded-User</th><td>u-alice</td></tr>`,
		`<tr><th>X-Forwarded-Groups</th><td>admins,staff</td></tr>`,
		`<tr><th>X-Forwarded-Preferred-Username</th><td>alice</td></tr>`,
		`<tr><th>X-Twice</th><td>first</td></tr>`,
		`<tr><th>X-Twice</th><td>second</td></tr>`,
		`<tr><th>X-Evil</th><td>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</td></tr>`,
		`<code>GET /some/page?x=1</code>`,
		`href="/oauth2/userinfo"`,
		`href="/oauth2/sign_out?rd=/"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q; page:\n%s", want, body)
		}
	}
	if strings.Contains(body, `<script>alert`) {
		t.Errorf("page carries a header value's <script> unescaped:\n%s", body)
	}
}

func TestPageWithoutIdentity(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	body := rec.Body.String()
	if want := "did not come through Gatehouse"; !strings.Contains(body, want) {
		t.Errorf("page without identity headers lacks %q; page:\n%s", want, body)
	}
	if want := `<tr><th>X-Forwarded-Email</th><td></td></tr>`; !strings.Contains(body, want) {
		t.Errorf("page lacks the empty row %q; page:\n%s", want, body)
	}
}

func TestEventsStream(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-Email", "bob@example.com")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("Content-Type"); got != "text/event-stream" {
		t.Errorf("Content-Type = %q, want text/event-stream", got)
	}
	r := bufio.NewReader(resp.Body)
	for i, want := range []string{
		"id: 1\ndata: event 1 of 3 for bob@example.com\n\n",
		"id: 2\ndata: event 2 of 3 for bob@example.com\n\n",
		"id: 3\ndata: event 3 of 3 for bob@example.com\n\n",
	} {
		got := readEvent(t, r)
		if got != want {
			t.Errorf("event %d = %q, want %q", i+1, got, want)
		}
		// Each event arrives on its own, not with the whole response.
		if elapsed, min := time.Since(start), time.Duration(i+1)*EventInterval; elapsed < min {
			t.Errorf("event %d arrived after %v, want at least %v", i+1, elapsed, min)
		}
	}
	if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
		t.Errorf("after 3 events: %q, %v; want the end of the stream", rest, err)
	}
}

// readEvent reads one server-sent event, up to and including its blank line.
func readEvent(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			t.Fatalf("reading an event: %v; got %q", err, b.String())
		}
		if line == "\n" {
			return b.String()
		}
	}
}
