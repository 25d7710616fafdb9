package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// dockerAPIVersion is the Engine API version the stand-in announces; Traefik's
// Docker client negotiates down to it and prefixes its paths with /v1.41/.
const dockerAPIVersion = "1.41"

// Container is a container as the Docker stand-in reports it: running,
// attached to the network "bridge" at IP, exposing Ports.
type Container struct {
	// Name is the container's name without the leading "/" ("app").
	Name string
	// Labels are the container's labels, such as traefik.enable=true.
	Labels map[string]string
	// IP is its address on the network "bridge", e.g. "127.0.0.1" for an
	// httptest server standing in for the container's process.
	IP string
	// Ports are the TCP ports the image exposes (its EXPOSE lines); without a
	// loadbalancer.server.port label Traefik uses the lowest one.
	Ports []int
}

// id returns the container's ID: 64 hex digits derived from its name.
func (c Container) id() string {
	var b strings.Builder
	for _, r := range c.Name {
		fmt.Fprintf(&b, "%02x", byte(r))
	}
	return (b.String() + strings.Repeat("0", 64))[:64]
}

// Docker is a stand-in for the Docker Engine API on a unix socket, serving
// just what Traefik's docker provider calls: /_ping (API version
// negotiation), /version, /info, /containers/json, /containers/{id}/json and
// an /events stream that stays open and silent. Every path it does not know is
// answered 404 and remembered: see Unknown. No Docker engine is needed.
type Docker struct {
	// Endpoint is the provider's endpoint, "unix://<dir>/docker.sock":
	// pass it as Options.DockerEndpoint.
	Endpoint string

	srv  *http.Server
	done chan struct{}

	mu         sync.Mutex
	containers []Container
	requests   []string
	unknown    []string
}

// StartDocker serves the Docker stand-in with containers until the test
// ends. Start it before Traefik, so that it outlives Traefik at cleanup.
func StartDocker(t testing.TB, containers ...Container) *Docker {
	t.Helper()
	// A unix socket path must stay under about 100 bytes, which a test's
	// TempDir (named after the test) may exceed.
	dir, err := os.MkdirTemp("", "gatehouse-docker-")
	if err != nil {
		t.Fatalf("harness: docker stand-in: %v", err)
	}
	sock := filepath.Join(dir, "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatalf("harness: docker stand-in: %v", err)
	}
	d := &Docker{
		Endpoint:   "unix://" + sock,
		done:       make(chan struct{}),
		containers: append([]Container(nil), containers...),
	}
	d.srv = &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	go d.srv.Serve(l)
	t.Cleanup(func() {
		close(d.done) // ends open /events streams
		d.srv.Close()
		os.RemoveAll(dir)
		if unknown := d.Unknown(); len(unknown) > 0 {
			t.Logf("harness: docker stand-in answered 404 to: %s", strings.Join(unknown, ", "))
		}
	})
	return d
}

// Requests returns "METHOD /path?query" for every request served so far.
func (d *Docker) Requests() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.requests...)
}

// Unknown returns "METHOD /path" for every request the stand-in could not
// answer: an API call Traefik makes that it does not implement.
func (d *Docker) Unknown() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.unknown...)
}

// versionPrefix matches the API version the client puts before every path
// but /_ping.
var versionPrefix = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/`)

// ServeHTTP answers one Engine API call.
func (d *Docker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	d.requests = append(d.requests, r.Method+" "+r.URL.RequestURI())
	containers := append([]Container(nil), d.containers...)
	d.mu.Unlock()

	path := r.URL.Path
	if loc := versionPrefix.FindStringIndex(path); loc != nil {
		path = path[loc[1]-1:]
	}
	w.Header().Set("Api-Version", dockerAPIVersion)
	w.Header().Set("Ostype", "linux")
	switch {
	case path == "/_ping" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
		if r.Method == http.MethodGet {
			w.Write([]byte("OK"))
		}
	case path == "/version" && r.Method == http.MethodGet:
		writeDockerJSON(w, map[string]any{
			"Version":       "27.5.1",
			"ApiVersion":    dockerAPIVersion,
			"MinAPIVersion": "1.24",
			"Os":            "linux",
			"Arch":          "amd64",
			"KernelVersion": "stand-in",
			"GoVersion":     "go1.22",
			"Components":    []any{},
		})
	case path == "/info" && r.Method == http.MethodGet:
		writeDockerJSON(w, map[string]any{
			"ID":              "GATEHOUSE-E2E-STAND-IN",
			"Name":            "gatehouse-e2e",
			"ServerVersion":   "27.5.1",
			"OperatingSystem": "stand-in",
			"Containers":      len(containers),
			"Swarm":           map[string]any{"LocalNodeState": "inactive", "NodeID": ""},
		})
	case path == "/containers/json" && r.Method == http.MethodGet:
		list := make([]any, 0, len(containers))
		for _, c := range containers {
			list = append(list, containerSummary(c))
		}
		writeDockerJSON(w, list)
	case strings.HasPrefix(path, "/containers/") && strings.HasSuffix(path, "/json") && r.Method == http.MethodGet:
		ref := strings.TrimSuffix(strings.TrimPrefix(path, "/containers/"), "/json")
		for _, c := range containers {
			if ref == c.id() || ref == c.Name || ref == "/"+c.Name {
				writeDockerJSON(w, containerInspect(c))
				return
			}
		}
		dockerError(w, http.StatusNotFound, "No such container: "+ref)
	case path == "/events" && r.Method == http.MethodGet:
		// The provider watches this stream for start and die events. The
		// containers never change, so it stays open and silent until
		// Traefik or the test ends.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		select {
		case <-r.Context().Done():
		case <-d.done:
		}
	default:
		d.mu.Lock()
		d.unknown = append(d.unknown, r.Method+" "+r.URL.Path)
		d.mu.Unlock()
		dockerError(w, http.StatusNotFound, "page not found (the e2e Docker stand-in does not implement "+r.Method+" "+r.URL.Path+")")
	}
}

// containerSummary is c as GET /containers/json lists it.
func containerSummary(c Container) map[string]any {
	return map[string]any{
		"Id":              c.id(),
		"Names":           []string{"/" + c.Name},
		"Image":           "gatehouse-e2e/" + c.Name,
		"ImageID":         "sha256:" + c.id(),
		"Command":         "/" + c.Name,
		"Created":         time.Now().Add(-time.Minute).Unix(),
		"State":           "running",
		"Status":          "Up 1 minute",
		"Labels":          c.Labels,
		"Ports":           []any{},
		"HostConfig":      map[string]any{"NetworkMode": "bridge"},
		"NetworkSettings": map[string]any{"Networks": networks(c)},
		"Mounts":          []any{},
	}
}

// containerInspect is c as GET /containers/{id}/json describes it.
func containerInspect(c Container) map[string]any {
	exposed := map[string]any{}
	ports := map[string]any{}
	sorted := append([]int(nil), c.Ports...)
	sort.Ints(sorted)
	for _, p := range sorted {
		key := strconv.Itoa(p) + "/tcp"
		exposed[key] = map[string]any{}
		ports[key] = nil // exposed, not published on the host
	}
	started := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	return map[string]any{
		"Id":      c.id(),
		"Name":    "/" + c.Name,
		"Created": started,
		"Path":    "/" + c.Name,
		"Args":    []string{},
		"State": map[string]any{
			"Status": "running", "Running": true, "Pid": 1, "ExitCode": 0,
			"StartedAt": started, "FinishedAt": "0001-01-01T00:00:00Z",
		},
		"Image":      "sha256:" + c.id(),
		"HostConfig": map[string]any{"NetworkMode": "bridge"},
		"Config": map[string]any{
			"Hostname":     c.Name,
			"Image":        "gatehouse-e2e/" + c.Name,
			"Labels":       c.Labels,
			"ExposedPorts": exposed,
		},
		"NetworkSettings": map[string]any{
			"Ports":    ports,
			"Networks": networks(c),
		},
		"Mounts": []any{},
	}
}

// networks is c's attachment to the network "bridge".
func networks(c Container) map[string]any {
	return map[string]any{
		"bridge": map[string]any{
			"NetworkID": strings.Repeat("b", 64),
			"IPAddress": c.IP,
		},
	}
}

func writeDockerJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		dockerError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// dockerError answers as the Engine API reports errors: {"message": "..."}.
func dockerError(w http.ResponseWriter, status int, message string) {
	body, _ := json.Marshal(map[string]string{"message": message})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// ComposeLabels returns the labels of service in a Compose file, the way
// Compose hands them to Docker: a list of "key=value" or a mapping, with
// Compose's "$$" escape turned back into "$".
func ComposeLabels(compose, service string) (map[string]string, error) {
	var file struct {
		Services map[string]struct {
			Labels yaml.Node `yaml:"labels"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(compose), &file); err != nil {
		return nil, fmt.Errorf("harness: compose file: %w", err)
	}
	svc, ok := file.Services[service]
	if !ok {
		return nil, fmt.Errorf("harness: compose file has no service %q", service)
	}
	labels := map[string]string{}
	unescape := strings.NewReplacer("$$", "$")
	switch svc.Labels.Kind {
	case yaml.SequenceNode:
		var list []string
		if err := svc.Labels.Decode(&list); err != nil {
			return nil, fmt.Errorf("harness: compose service %q: labels: %w", service, err)
		}
		for _, kv := range list {
			k, v, _ := strings.Cut(kv, "=")
			labels[strings.TrimSpace(k)] = unescape.Replace(v)
		}
	case yaml.MappingNode:
		var m map[string]string
		if err := svc.Labels.Decode(&m); err != nil {
			return nil, fmt.Errorf("harness: compose service %q: labels: %w", service, err)
		}
		for k, v := range m {
			labels[k] = unescape.Replace(v)
		}
	default:
		return nil, errors.New("harness: compose service " + strconv.Quote(service) + " has no labels")
	}
	return labels, nil
}
