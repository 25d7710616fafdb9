module github.com/gatehouse-auth/gatehouse

go 1.22.0

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/traefik/paerser v0.2.2
	golang.org/x/oauth2 v0.26.0
)
