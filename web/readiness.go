package web

// readinessRoutes registers the readiness endpoints (API and UI).
func (s *Server) readinessRoutes() {}

// readinessOperations documents the readiness API for the OpenAPI document.
var readinessOperations []operation

// readinessSchemas are the OpenAPI schemas the readiness operations refer to.
func readinessSchemas() map[string]any { return nil }
