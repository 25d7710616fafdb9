package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/e2e/harness"
)

// TestReadmeDockerLabelsExample runs the README's Docker labels example
// through Traefik's own docker provider. A stand-in for the Docker Engine API
// reports one running container carrying the example's labels; the
// container's address is the test's app server on 127.0.0.1, its exposed port
// the server's port (as whoami's image exposes 80).
func TestReadmeDockerLabelsExample(t *testing.T) {
	idp := readmeProvider(t)
	app := echoApp(t)
	compose := readmeExample(t, "docker-labels", idp, map[string]string{"websecure": "web"})
	labels, err := harness.ComposeLabels(compose, "app")
	if err != nil {
		t.Fatal(err)
	}
	appAddr, err := url.Parse(app.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(appAddr.Port())
	if err != nil {
		t.Fatal(err)
	}
	docker := harness.StartDocker(t, harness.Container{Name: "app", Labels: labels, IP: "127.0.0.1", Ports: []int{port}})
	tr := harness.Start(t, harness.Options{DockerEndpoint: docker.Endpoint})
	client := httpsClient(tr)
	origin := httpsURL(tr, "app.localhost", "")

	// The file provider's configuration is served once Start returns; the
	// docker provider's arrives on its own schedule.
	eventually(t, 30*time.Second, "the container's router is served", func() error {
		hop := get(t, client, origin+"/oauth2/auth")
		if hop.Status != http.StatusUnauthorized {
			return fmt.Errorf("%s, want 401 from Gatehouse; docker API calls: %s", hop, strings.Join(docker.Requests(), ", "))
		}
		return nil
	})
	checkNoProblems(t, tr)
	if unknown := docker.Unknown(); len(unknown) > 0 {
		t.Errorf("Traefik called Docker API paths the stand-in does not implement: %s", strings.Join(unknown, ", "))
	}

	// The example's skipAuthRoutes label, written GET=^/healthz$$ in Compose.
	if hop := get(t, client, origin+"/healthz"); hop.Status != http.StatusOK {
		t.Errorf("GET /healthz without a session: %s, want 200 (skipAuthRoutes)", hop)
	}
	hops, got := signInToEcho(t, client, origin+"/some/page?x=1")
	checkIdentity(t, got)
	if session := findSetCookie(hops, "_oauth2_proxy"); session == nil || !session.Secure {
		t.Errorf("session cookie %v, want a Secure _oauth2_proxy", session)
	}
}
