package device

import "context"

func (s *Server) runDiscovery(ctx context.Context) { <-ctx.Done() }
