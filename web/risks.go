package web

// riskRoutes registers the risks endpoints (API and UI).
func (s *Server) riskRoutes() {}

// riskOperations documents the risks API for the OpenAPI document.
var riskOperations []operation

// riskSchemas are the OpenAPI schemas the risks operations refer to.
func riskSchemas() map[string]any { return nil }
