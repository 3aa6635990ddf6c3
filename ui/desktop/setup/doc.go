// Package setup is the desktop's configuration screens: the Settings of
// the Dashboard (the config as forms per section, validated inline with
// the config's own `key: problem` messages, saved through the control
// API) and the first-start wizard (language, EHR, that EHR's fields,
// tablet endpoint, preflight checks, autostart, summary, save, pairing).
//
// The checks (checks.go) are a declarative list, apart from the screens:
// each names what it tests, whether it may be overridden, and a function
// that answers in codes the screens turn into words. Secrets typed into
// password fields go to the OS keyring; the config only ever holds
// keyring:NAME references.
package setup
