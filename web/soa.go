package web

// soaRoutes registers the soa endpoints (API and UI).
func (s *Server) soaRoutes() {}

// soaOperations documents the soa API for the OpenAPI document.
var soaOperations []operation

// soaSchemas are the OpenAPI schemas the soa operations refer to.
func soaSchemas() map[string]any { return nil }
