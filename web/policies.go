package web

// policyRoutes registers the policies endpoints (API and UI).
func (s *Server) policyRoutes() {}

// policyOperations documents the policies API for the OpenAPI document.
var policyOperations []operation

// policySchemas are the OpenAPI schemas the policies operations refer to.
func policySchemas() map[string]any { return nil }
