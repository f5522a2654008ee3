package web

import (
	"net/http"

	"github.com/vigilhq/vigil"
)

// documentRoutes registers the documents register: every piece of
// mandatory documented information and where it lives in Vigil.
func (s *Server) documentRoutes() {
	s.handle("GET", "/api/v1/documents-register", API, ismsReaders, s.apiDocuments)
	s.handle("GET", "/documents", UI, ismsReaders, s.uiDocuments)
}

var documentOperations = []operation{
	{Method: "GET", Path: "/api/v1/documents-register", Summary: "The mandatory documented information of ISO/IEC 27001, where each lives in Vigil and whether it is present.", Status: 200, Response: "DocumentStatus", List: true},
}

func documentSchemas() map[string]any {
	return map[string]any{
		"DocumentStatus": obj([]string{"id", "clause", "name", "location", "present"}, map[string]any{
			"id": str(), "clause": str(), "name": str(), "location": str(), "link": str(), "present": map[string]any{"type": "boolean"},
		}),
	}
}

func (s *Server) apiDocuments(w http.ResponseWriter, r *http.Request) {
	docs, err := s.store.MandatoryDocuments(r.Context(), actorOf(r).OrgID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, List[vigil.DocumentStatus]{Items: docs})
}

func (s *Server) uiDocuments(w http.ResponseWriter, r *http.Request) {
	docs, err := s.store.MandatoryDocuments(r.Context(), actorOf(r).OrgID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "documents", view{Title: "Documents register", Nav: "isms", Actor: actorOf(r), Data: docs})
}
