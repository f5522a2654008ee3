package web

// scopeRoutes registers the scope endpoints (API and UI).
func (s *Server) scopeRoutes() {}

// scopeOperations documents the scope API for the OpenAPI document.
var scopeOperations []operation

// scopeSchemas are the OpenAPI schemas the scope operations refer to.
func scopeSchemas() map[string]any { return nil }
