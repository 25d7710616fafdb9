# The project's commands. `make test` is the whole test CI runs; `make
# test-fast` skips only the real-Traefik end-to-end tests, for quick local runs.
.PHONY: test test-fast traefik bench benchmark demo

test:
	.ci/check

test-fast:
	GATEHOUSE_FAST=1 .ci/check

# demo runs Traefik (built first if needed) with the plugin from this working
# tree, a development identity provider and a demo app, prints the URL and
# the test users, and runs until Ctrl-C. Its files are in e2e/demo-run/.
# It is built, then exec'ed rather than go run, which turns the Ctrl-C that
# ends a demo into a failed exit status.
demo:
	cd e2e && go build -o demo-run/demo ./cmd/demo && exec demo-run/demo

# traefik builds (once, cached outside the clone) the Traefik binary the
# end-to-end tests run, and prints its path.
traefik:
	e2e/traefik/build.sh

# bench runs the plugin's micro-benchmarks (warm and cold requests, opening a
# session, the header work, the harness floor), compiled and then under Yaegi
# as Traefik runs them; the Yaegi figures are the ones that count in Traefik.
bench:
	go test -run '^$$' -bench . -benchmem -count 3 .
	YAEGI_TEST_FLAGS="-run ^$$ -bench . -benchmem -count 3" .ci/yaegi-test .

# benchmark runs the full benchmark (e2e/cmd/bench, about a quarter of an
# hour): requests per second, latency, memory and load time of Traefik alone,
# with Gatehouse and with oauth2-proxy behind ForwardAuth, how the cost grows,
# and session cookie sizes against oauth2-proxy's. BENCHFLAGS passes flags,
# e.g. BENCHFLAGS=-smoke. Its files are in e2e/bench-run/.
benchmark:
	cd e2e && go run ./cmd/bench $(BENCHFLAGS)
