package web

// evidenceRoutes registers the evidence endpoints (API and UI).
func (s *Server) evidenceRoutes() {}

// evidenceOperations documents the evidence API for the OpenAPI document.
var evidenceOperations []operation

// evidenceSchemas are the OpenAPI schemas the evidence operations refer to.
func evidenceSchemas() map[string]any { return nil }
