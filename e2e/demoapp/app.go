package demoapp

import (
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"time"
)

// IdentityHeaders are the request headers Gatehouse sets for the signed-in
// user (passUserHeaders), in the order the page shows them.
var IdentityHeaders = []string{
	"X-Forwarded-User",
	"X-Forwarded-Email",
	"X-Forwarded-Groups",
	"X-Forwarded-Preferred-Username",
}

// Events is how many events /events sends before it ends the stream.
const Events = 3

// EventInterval is the pause before each event of /events, long enough for
// a test to tell a stream from a buffered response.
const EventInterval = 200 * time.Millisecond

// Handler returns the demo app: a WebSocket echo at /ws, server-sent events
// at /events and, at every other path, the page showing the request's
// headers.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", serveWebSocket)
	mux.HandleFunc("/events", serveEvents)
	mux.HandleFunc("/", servePage)
	return mux
}

// headerRow is one header value as the page shows it.
type headerRow struct {
	Name, Value string
}

// pageData is what the page template renders.
type pageData struct {
	Method, RequestURI, Host string
	Email                    string
	Identity                 []headerRow
	Headers                  []headerRow
}

func servePage(w http.ResponseWriter, r *http.Request) {
	d := pageData{
		Method:     r.Method,
		RequestURI: r.RequestURI,
		Host:       r.Host,
		Email:      r.Header.Get("X-Forwarded-Email"),
	}
	for _, name := range IdentityHeaders {
		d.Identity = append(d.Identity, headerRow{name, r.Header.Get(name)})
	}
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range r.Header[name] {
			d.Headers = append(d.Headers, headerRow{name, v})
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := page.Execute(w, d); err != nil {
		// The header is sent; all that is left is to end the page early.
		fmt.Fprintf(w, "\n<!-- template error -->\n")
	}
}

// serveEvents sends Events server-sent events, EventInterval apart, each
// flushed at once, then ends the response.
func serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	who := ""
	if email := r.Header.Get("X-Forwarded-Email"); email != "" {
		who = " for " + email
	}
	for i := 1; i <= Events; i++ {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(EventInterval):
		}
		fmt.Fprintf(w, "id: %d\ndata: event %d of %d%s\n\n", i, i, Events, who)
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// page is the demo app's page. Every value is escaped by html/template.
var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Gatehouse demo app</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 60em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
td { font-family: monospace; word-break: break-all; }
</style>
</head>
<body>
<h1>Gatehouse demo app</h1>
{{if .Email}}<p id="signed-in">Signed in as <strong>{{.Email}}</strong>.</p>
{{else}}<p id="signed-in">No X-Forwarded-Email header: this request did not come through Gatehouse with a session.</p>
{{end}}<p>
<a id="userinfo" href="/oauth2/userinfo">/oauth2/userinfo</a> (the session as JSON) &middot;
<a id="sign-out" href="/oauth2/sign_out?rd=/">Sign out</a>
</p>

<h2>Identity headers from Gatehouse</h2>
<table id="identity">
{{range .Identity}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}</table>

<h2>Every request header the app received</h2>
<p><code>{{.Method}} {{.RequestURI}}</code> for host <code>{{.Host}}</code></p>
<table id="headers">
<tr><th>Name</th><th>Value</th></tr>
{{range .Headers}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}</table>

<h2>Long-lived responses through Gatehouse</h2>
<p>
<button id="try-ws" type="button">WebSocket echo (/ws)</button>
<button id="try-events" type="button">Server-sent events (/events)</button>
</p>
<pre id="stream-log"></pre>
<script>
function note(line) {
  document.getElementById("stream-log").textContent += line + "\n";
}
document.getElementById("try-ws").onclick = function () {
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var ws = new WebSocket(scheme + location.host + "/ws");
  ws.onopen = function () { note("ws: open, sending hello"); ws.send("hello"); };
  ws.onmessage = function (e) { note("ws: echoed " + e.data); ws.close(1000); };
  ws.onclose = function (e) { note("ws: closed, code " + e.code); };
};
document.getElementById("try-events").onclick = function () {
  var events = new EventSource("/events");
  events.onmessage = function (e) { note("events: " + e.data); };
  events.onerror = function () { note("events: stream ended"); events.close(); };
};
</script>
</body>
</html>
`))
