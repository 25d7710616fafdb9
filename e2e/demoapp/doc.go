// Package demoapp is the application Gatehouse protects in the demo (make
// demo) and in end-to-end tests.
//
// Its page shows the identity headers Gatehouse passed and every other
// request header, with links to Gatehouse's userinfo and sign-out
// endpoints. It also serves the two long-lived kinds of response a
// middleware must let through unharmed: a WebSocket echo at /ws and
// server-sent events at /events.
//
// It owns nothing of Gatehouse and trusts its headers blindly: it is only
// ever reached through Traefik in these programs. It uses the standard
// library only.
package demoapp
