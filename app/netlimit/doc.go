// Package netlimit bounds what a TCP listener may hold open: connections
// in all, connections per client address (IPv6: per /64), how long a new
// connection may stay open before it makes its first request, and a share
// of the process's file descriptors that its listeners never take, so that
// the store, the log and the other listeners (MLLP orders from the EHR)
// keep working while one endpoint is flooded.
//
// A connection over a limit is accepted and closed at once with a reset:
// it then holds no descriptor, and a flood cannot fill the listen backlog
// ahead of legitimate clients.
package netlimit
