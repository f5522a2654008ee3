package web

// supplierRoutes registers the suppliers endpoints (API and UI).
func (s *Server) supplierRoutes() {}

// supplierOperations documents the suppliers API for the OpenAPI document.
var supplierOperations []operation

// supplierSchemas are the OpenAPI schemas the suppliers operations refer to.
func supplierSchemas() map[string]any { return nil }
