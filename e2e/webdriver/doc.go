// Package webdriver is a minimal client of the W3C WebDriver protocol, as
// chromedriver serves it over HTTP: enough for the end-to-end tests to drive
// a real headless Chromium through a sign-in and read back what it kept.
//
// It owns the protocol only: sessions, navigation, finding elements, typing,
// clicking, page source, screenshots and cookies. It does not start or stop
// chromedriver or Chromium (the tests do), and it implements no waiting
// beyond what the protocol's own page-load strategy does.
package webdriver
