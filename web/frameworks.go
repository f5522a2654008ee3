package web

// frameworkRoutes registers the frameworks endpoints (API and UI).
func (s *Server) frameworkRoutes() {}

// frameworkOperations documents the frameworks API for the OpenAPI document.
var frameworkOperations []operation

// frameworkSchemas are the OpenAPI schemas the frameworks operations refer to.
func frameworkSchemas() map[string]any { return nil }
