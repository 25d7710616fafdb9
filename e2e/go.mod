// Module e2e holds Gatehouse's end-to-end tests: they run the plugin inside a
// real Traefik binary. It is a module of its own so that the harness and the
// tests never become part of the plugin module that Traefik interprets.
module github.com/gatehouse-auth/gatehouse/e2e

go 1.22.0

require (
	github.com/gatehouse-auth/gatehouse v0.0.0
	github.com/mitchellh/mapstructure v1.5.1-0.20231216201459-8508981c8b6c
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/traefik/paerser v0.2.2 // indirect
	golang.org/x/oauth2 v0.26.0 // indirect
)

replace github.com/gatehouse-auth/gatehouse => ../
