//go:build !windows

package control

import "net/http"

// checkToken: the unix socket's peers are vetted by sameUser.
func checkToken(*http.Request) bool { return true }
