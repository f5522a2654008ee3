package web

// trainingRoutes registers the training endpoints (API and UI).
func (s *Server) trainingRoutes() {}

// trainingOperations documents the training API for the OpenAPI document.
var trainingOperations []operation

// trainingSchemas are the OpenAPI schemas the training operations refer to.
func trainingSchemas() map[string]any { return nil }
