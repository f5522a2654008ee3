package web

import (
	"net/http"
)

// readinessRoutes registers the readiness checklist.
func (s *Server) readinessRoutes() {
	s.handle("GET", "/api/v1/readiness", API, ismsReaders, s.apiReadiness)
}

// readinessOperations documents the readiness API.
var readinessOperations = []operation{
	{Method: "GET", Path: "/api/v1/readiness", Summary: "Certification readiness: every check computed from the data.", Status: 200, Response: "Readiness"},
}

// readinessSchemas are the readiness schemas.
func readinessSchemas() map[string]any {
	return map[string]any{
		"Readiness": obj([]string{"ready", "score", "checks"}, map[string]any{
			"ready": map[string]any{"type": "boolean"},
			"score": map[string]any{"type": "integer", "minimum": 0, "maximum": 100},
			"checks": map[string]any{"type": "array", "items": obj([]string{"id", "title", "passed", "detail"}, map[string]any{
				"id": map[string]any{"type": "string", "enum": []string{"scope", "assets", "risk_assessment", "risk_treatment", "soa", "policies",
					"training", "documentation", "internal_audit", "corrective_actions", "management_review"}},
				"title": str(), "passed": map[string]any{"type": "boolean"}, "detail": str(),
			})},
		}),
	}
}

func (s *Server) apiReadiness(w http.ResponseWriter, r *http.Request) {
	rd, err := s.store.Readiness(r.Context(), actorOf(r).OrgID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rd)
}
