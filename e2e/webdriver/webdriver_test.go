package webdriver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
)

// fakeDriver answers WebDriver commands from a table of method+path to a
// status and a "value", recording each request's JSON body.
type fakeDriver struct {
	mu      sync.Mutex // guards the maps, shared with the server's goroutines
	answers map[string]struct {
		status int
		value  any
	}
	bodies map[string]map[string]any
}

// body returns the JSON body the command key last sent.
func (f *fakeDriver) body(key string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[key]
}

func newFake(t *testing.T) (*fakeDriver, *Client) {
	f := &fakeDriver{answers: map[string]struct {
		status int
		value  any
	}{}, bodies: map[string]map[string]any{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		f.mu.Lock()
		defer f.mu.Unlock()
		b, _ := io.ReadAll(r.Body)
		if len(b) > 0 {
			var body map[string]any
			if err := json.Unmarshal(b, &body); err != nil {
				t.Errorf("%s: body %q is not a JSON object", key, b)
			}
			f.bodies[key] = body
		}
		a, ok := f.answers[key]
		if !ok {
			a.status, a.value = http.StatusNotFound, map[string]string{"error": "unknown command", "message": key}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		json.NewEncoder(w).Encode(map[string]any{"value": a.value})
	}))
	t.Cleanup(srv.Close)
	return f, New(srv.URL)
}

func (f *fakeDriver) answer(key string, status int, value any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[key] = struct {
		status int
		value  any
	}{status, value}
}

func TestSessionCommands(t *testing.T) {
	f, c := newFake(t)
	ctx := context.Background()
	f.answer("POST /session", 200, map[string]any{"sessionId": "s1", "capabilities": map[string]any{}})
	f.answer("POST /session/s1/url", 200, nil)
	f.answer("GET /session/s1/url", 200, "http://app.localhost/")
	f.answer("POST /session/s1/element", 200, map[string]string{elementKey: "e1"})
	f.answer("POST /session/s1/element/e1/value", 200, nil)
	f.answer("GET /session/s1/screenshot", 200, base64.StdEncoding.EncodeToString([]byte("\x89PNG")))
	f.answer("GET /session/s1/cookie", 200, []map[string]any{{
		"name": "_oauth2_proxy", "value": "v", "path": "/", "domain": "app.localhost",
		"secure": true, "httpOnly": true, "sameSite": "Lax", "expiry": 1700000000,
	}})

	s, err := c.NewChromeSession(ctx, ChromeOptions{Binary: "/usr/bin/chromium", Args: []string{"--headless"}})
	if err != nil || s.ID != "s1" {
		t.Fatalf("NewChromeSession = %v, %v; want session s1", s, err)
	}
	caps := f.body("POST /session")["capabilities"].(map[string]any)["alwaysMatch"].(map[string]any)
	chrome := caps["goog:chromeOptions"].(map[string]any)
	if chrome["binary"] != "/usr/bin/chromium" || !reflect.DeepEqual(chrome["args"], []any{"--headless"}) {
		t.Errorf("goog:chromeOptions sent = %v", chrome)
	}
	if err := s.Navigate(ctx, "http://app.localhost/"); err != nil {
		t.Fatal(err)
	}
	if got := f.body("POST /session/s1/url")["url"]; got != "http://app.localhost/" {
		t.Errorf("Navigate sent url %v", got)
	}
	if u, err := s.CurrentURL(ctx); err != nil || u != "http://app.localhost/" {
		t.Errorf("CurrentURL = %q, %v", u, err)
	}
	e, err := s.FindElement(ctx, "#username")
	if err != nil || e.ID != "e1" {
		t.Fatalf("FindElement = %v, %v; want e1", e, err)
	}
	if got := f.body("POST /session/s1/element"); got["using"] != "css selector" || got["value"] != "#username" {
		t.Errorf("FindElement sent %v", got)
	}
	if err := e.SendKeys(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if got := f.body("POST /session/s1/element/e1/value")["text"]; got != "alice" {
		t.Errorf("SendKeys sent text %v", got)
	}
	if png, err := s.Screenshot(ctx); err != nil || string(png) != "\x89PNG" {
		t.Errorf("Screenshot = %q, %v", png, err)
	}
	cookies, err := s.Cookies(ctx)
	want := []Cookie{{Name: "_oauth2_proxy", Value: "v", Path: "/", Domain: "app.localhost",
		Secure: true, HTTPOnly: true, SameSite: "Lax", Expiry: 1700000000}}
	if err != nil || !reflect.DeepEqual(cookies, want) {
		t.Errorf("Cookies = %+v, %v; want %+v", cookies, err, want)
	}
}

func TestErrorAnswer(t *testing.T) {
	f, c := newFake(t)
	f.answer("POST /session/s1/element", 404, map[string]string{
		"error": "no such element", "message": "no such element: Unable to locate element\n  (Session info: chrome=156)",
	})
	s := &Session{c: c, ID: "s1"}
	_, err := s.FindElement(context.Background(), "#missing")
	var we *Error
	if !errors.As(err, &we) || we.Status != 404 || we.Code != "no such element" {
		t.Fatalf("FindElement(#missing) = %v, want *Error 404 no such element", err)
	}
	if got, want := err.Error(), "webdriver: no such element (HTTP 404): no such element: Unable to locate element"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
