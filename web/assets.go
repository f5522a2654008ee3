package web

// assetRoutes registers the assets endpoints (API and UI).
func (s *Server) assetRoutes() {}

// assetOperations documents the assets API for the OpenAPI document.
var assetOperations []operation

// assetSchemas are the OpenAPI schemas the assets operations refer to.
func assetSchemas() map[string]any { return nil }
