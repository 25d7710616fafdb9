package webdriver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxResponse bounds how much of a response the client reads: a screenshot
// of a large window is a few megabytes of base64.
const maxResponse = 32 << 20

// elementKey is the key of a web element reference in W3C WebDriver JSON.
const elementKey = "element-6066-11e4-a52e-4f735466cecf"

// Client talks to one WebDriver server, such as chromedriver --port=N.
type Client struct {
	// URL is the server's base URL, e.g. "http://127.0.0.1:9515".
	URL string
	// HTTP sends the requests; New sets one with no proxy and a timeout.
	HTTP *http.Client
}

// New returns a Client for the WebDriver server at baseURL. Its requests
// time out after a minute, which bounds a page load too.
func New(baseURL string) *Client {
	return &Client{
		URL: strings.TrimRight(baseURL, "/"),
		HTTP: &http.Client{
			Timeout:   time.Minute,
			Transport: &http.Transport{Proxy: nil},
		},
	}
}

// Error is an error the WebDriver server answered, such as "no such
// element" with HTTP status 404.
type Error struct {
	// Status is the HTTP status of the answer.
	Status int
	// Code is the W3C error code, e.g. "no such element".
	Code string `json:"error"`
	// Message is the server's explanation.
	Message string `json:"message"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("webdriver: %s (HTTP %d): %s", e.Code, e.Status, firstLine(e.Message))
}

// firstLine returns s up to its first newline: chromedriver appends its own
// build details to messages.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// do sends a command and decodes the "value" of the answer into result
// (unless result is nil). body is sent as JSON; nil sends no body for GET
// and DELETE and {} otherwise, as the protocol asks.
func (c *Client) do(ctx context.Context, method, path string, body, result any) error {
	var r io.Reader
	if body != nil || (method != http.MethodGet && method != http.MethodDelete) {
		if body == nil {
			body = struct{}{}
		}
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("webdriver: %s %s: %w", method, path, err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, r)
	if err != nil {
		return fmt.Errorf("webdriver: %w", err)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("webdriver: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("webdriver: %s %s: reading the answer: %w", method, path, err)
	}
	var envelope struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &envelope); err != nil {
		return fmt.Errorf("webdriver: %s %s: HTTP %d, not a WebDriver answer: %.200q", method, path, resp.StatusCode, data)
	}
	if resp.StatusCode >= 400 {
		e := &Error{Status: resp.StatusCode}
		if err := json.Unmarshal(envelope.Value, e); err != nil || e.Code == "" {
			return fmt.Errorf("webdriver: %s %s: HTTP %d: %.200q", method, path, resp.StatusCode, data)
		}
		return e
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(envelope.Value, result); err != nil {
		return fmt.Errorf("webdriver: %s %s: decoding %.200q: %w", method, path, envelope.Value, err)
	}
	return nil
}

// Ready reports whether the server says it can create a new session.
func (c *Client) Ready(ctx context.Context) bool {
	var status struct {
		Ready bool `json:"ready"`
	}
	return c.do(ctx, http.MethodGet, "/status", nil, &status) == nil && status.Ready
}

// ChromeOptions are the goog:chromeOptions of a new Chromium session.
type ChromeOptions struct {
	// Binary is the path of the browser; "" lets chromedriver look for it.
	Binary string `json:"binary,omitempty"`
	// Args are the browser's command-line switches, e.g. "--headless".
	Args []string `json:"args,omitempty"`
}

// NewChromeSession starts a browser with opts and returns its session.
func (c *Client) NewChromeSession(ctx context.Context, opts ChromeOptions) (*Session, error) {
	caps := map[string]any{
		"capabilities": map[string]any{
			"alwaysMatch": map[string]any{
				"browserName":        "chrome",
				"pageLoadStrategy":   "normal",
				"goog:chromeOptions": opts,
			},
		},
	}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	if err := c.do(ctx, http.MethodPost, "/session", caps, &created); err != nil {
		return nil, err
	}
	if created.SessionID == "" {
		return nil, errors.New("webdriver: new session: no sessionId in the answer")
	}
	return &Session{c: c, ID: created.SessionID}, nil
}

// Session is one browser the server started.
type Session struct {
	c *Client
	// ID is the session's ID.
	ID string
}

func (s *Session) path(p string) string {
	return "/session/" + url.PathEscape(s.ID) + p
}

// Navigate loads rawURL in the current tab and returns once the page has
// loaded (the protocol's "normal" page-load strategy).
func (s *Session) Navigate(ctx context.Context, rawURL string) error {
	return s.c.do(ctx, http.MethodPost, s.path("/url"), map[string]string{"url": rawURL}, nil)
}

// CurrentURL returns the URL of the page in the current tab.
func (s *Session) CurrentURL(ctx context.Context) (string, error) {
	var u string
	err := s.c.do(ctx, http.MethodGet, s.path("/url"), nil, &u)
	return u, err
}

// Title returns the title of the page in the current tab.
func (s *Session) Title(ctx context.Context) (string, error) {
	var title string
	err := s.c.do(ctx, http.MethodGet, s.path("/title"), nil, &title)
	return title, err
}

// Source returns the page's DOM serialized as HTML.
func (s *Session) Source(ctx context.Context) (string, error) {
	var src string
	err := s.c.do(ctx, http.MethodGet, s.path("/source"), nil, &src)
	return src, err
}

// Screenshot returns a PNG image of the tab's viewport.
func (s *Session) Screenshot(ctx context.Context) ([]byte, error) {
	var b64 string
	if err := s.c.do(ctx, http.MethodGet, s.path("/screenshot"), nil, &b64); err != nil {
		return nil, err
	}
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("webdriver: screenshot: %w", err)
	}
	return png, nil
}

// FindElement returns the first element matching the CSS selector css, or
// an *Error with Code "no such element".
func (s *Session) FindElement(ctx context.Context, css string) (*Element, error) {
	var ref map[string]string
	body := map[string]string{"using": "css selector", "value": css}
	if err := s.c.do(ctx, http.MethodPost, s.path("/element"), body, &ref); err != nil {
		return nil, err
	}
	id := ref[elementKey]
	if id == "" {
		return nil, fmt.Errorf("webdriver: find %q: no element reference in the answer", css)
	}
	return &Element{s: s, ID: id}, nil
}

// Cookie is a cookie as the browser keeps it, in W3C WebDriver's terms. A
// host-only cookie's Domain is the host that set it; one set with a Domain
// attribute has that domain with a leading dot.
type Cookie struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Path     string `json:"path"`
	Domain   string `json:"domain"`
	Secure   bool   `json:"secure"`
	HTTPOnly bool   `json:"httpOnly"`
	// SameSite is "Strict", "Lax" or "None".
	SameSite string `json:"sameSite"`
	// Expiry is the expiry time in seconds since the Unix epoch; 0 for a
	// session cookie.
	Expiry int64 `json:"expiry,omitempty"`
}

// Cookies returns the cookies the browser would send to the current page.
func (s *Session) Cookies(ctx context.Context) ([]Cookie, error) {
	var cookies []Cookie
	err := s.c.do(ctx, http.MethodGet, s.path("/cookie"), nil, &cookies)
	return cookies, err
}

// Delete ends the session and closes its browser.
func (s *Session) Delete(ctx context.Context) error {
	return s.c.do(ctx, http.MethodDelete, s.path(""), nil, nil)
}

// Element is an element of the page a session has loaded.
type Element struct {
	s *Session
	// ID is the element's web element reference.
	ID string
}

func (e *Element) path(p string) string {
	return e.s.path("/element/" + url.PathEscape(e.ID) + p)
}

// SendKeys types text into the element.
func (e *Element) SendKeys(ctx context.Context, text string) error {
	return e.s.c.do(ctx, http.MethodPost, e.path("/value"), map[string]string{"text": text}, nil)
}

// Click clicks the element; a click that submits a form or follows a link
// returns once the new page has loaded.
func (e *Element) Click(ctx context.Context) error {
	return e.s.c.do(ctx, http.MethodPost, e.path("/click"), nil, nil)
}

// Text returns the element's rendered text.
func (e *Element) Text(ctx context.Context) (string, error) {
	var text string
	err := e.s.c.do(ctx, http.MethodGet, e.path("/text"), nil, &text)
	return text, err
}
