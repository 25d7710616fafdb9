# The project's commands. `make test` is the whole test CI runs; `make
# test-fast` skips only the real-Traefik end-to-end tests, for quick local runs.
.PHONY: test test-fast traefik

test:
	.ci/check

test-fast:
	GATEHOUSE_FAST=1 .ci/check

# traefik builds (once, cached outside the clone) the Traefik binary the
# end-to-end tests run, and prints its path.
traefik:
	e2e/traefik/build.sh
