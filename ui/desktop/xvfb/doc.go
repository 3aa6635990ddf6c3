// Package xvfb holds the end-to-end test of the Dashboard: it builds the
// mconnect binary, runs `mconnect --dashboard` on an Xvfb display and
// checks a screenshot of the real window. It has no code of its own; the
// test lives apart from package view so that the view tests that need no
// display keep building without cgo.
package xvfb
