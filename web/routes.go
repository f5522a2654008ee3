package web

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// registerRoutes is the one table of every endpoint and who may call it.
func (s *Server) registerRoutes(reg *prometheus.Registry) {
	// Operations.
	s.handle("GET", "/healthz", Public, nil, s.healthz)
	s.handle("GET", "/readyz", Public, nil, s.readyz)
	s.handle("GET", "/metrics", Public, nil, metricsHandler(reg))
	s.handle("GET", "/api/v1/openapi.json", Public, nil, s.openAPI)

	// API.
	s.handle("GET", "/api/v1/me", API, everyone, s.apiMe)
	s.handle("GET", "/api/v1/orgs", API, everyone, s.apiListOrgs)
	s.handle("GET", "/api/v1/users", API, adminOnly, s.apiListUsers)
	s.handle("POST", "/api/v1/users", API, adminOnly, s.apiCreateUser)
	s.handle("GET", "/api/v1/users/{id}", API, adminOnly, s.apiGetUser)
	s.handle("PATCH", "/api/v1/users/{id}", API, adminOnly, s.apiUpdateUser)
	s.handle("DELETE", "/api/v1/users/{id}", API, adminOnly, s.apiDeleteUser)
	s.handle("GET", "/api/v1/tokens", API, staff, s.apiListTokens)
	s.handle("POST", "/api/v1/tokens", API, staff, s.apiCreateToken)
	s.handle("DELETE", "/api/v1/tokens/{id}", API, staff, s.apiRevokeToken)
	s.handle("GET", "/api/v1/trail", API, trailRoles, s.apiListTrail)

	// UI.
	s.handle("GET", "/static/{hash}/{file}", Public, nil, s.static.serve)
	s.handle("GET", "/login", Public, nil, s.uiLoginPage)
	s.handle("POST", "/login", Public, nil, s.uiLogin)
	s.handle("GET", "/login/totp", Public, nil, s.uiTOTPPage)
	s.handle("POST", "/login/totp", Public, nil, s.uiTOTP)
	s.handle("POST", "/logout", UI, everyone, s.uiLogout)
	s.handle("GET", "/{$}", UI, everyone, s.uiDashboard)
	s.handle("POST", "/org", UI, everyone, s.uiSwitchOrg)
	s.handle("GET", "/members", UI, adminOnly, s.uiMembers)
	s.handle("POST", "/members", UI, adminOnly, s.uiAddMember)
	s.handle("POST", "/members/{id}", UI, adminOnly, s.uiUpdateMember)
	s.handle("POST", "/members/{id}/remove", UI, adminOnly, s.uiRemoveMember)
	s.handle("GET", "/tokens", UI, staff, s.uiTokens)
	s.handle("POST", "/tokens", UI, staff, s.uiCreateToken)
	s.handle("POST", "/tokens/{id}/revoke", UI, staff, s.uiRevokeToken)
	s.handle("GET", "/profile", UI, everyone, s.uiProfile)
	s.handle("POST", "/profile/password", UI, everyone, s.uiChangePassword)
	s.handle("POST", "/profile/totp", UI, everyone, s.uiBeginTOTP)
	s.handle("POST", "/profile/totp/enable", UI, everyone, s.uiEnableTOTP)
	s.handle("POST", "/profile/totp/disable", UI, everyone, s.uiDisableTOTP)
	s.handle("POST", "/profile/calendar", UI, calendarUsers, s.uiCalendarFeed)
	s.handle("GET", "/trail", UI, trailRoles, s.uiTrail)

	// ISMS areas, each registered from its own file.
	s.frameworkRoutes()
	s.scopeRoutes()
	s.assetRoutes()
	s.riskRoutes()
	s.soaRoutes()
	s.policyRoutes()
	s.trainingRoutes()
	s.evidenceRoutes()
	s.supplierRoutes()
	s.readinessRoutes()
	s.documentRoutes()
	s.auditRoutes()
	s.auditUIRoutes()
	s.incidentRoutes()
	s.incidentUIRoutes()

	// User-activity monitoring.
	s.ingestRoutes()
	s.monitoringRoutes()
	s.responseRoutes()
	s.detectionRoutes()
	s.detectionUIRoutes()
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.store.Ping(r.Context()); err != nil {
		writeProblem(w, Problem{Type: problemType("unavailable"), Title: "Database unreachable", Status: http.StatusServiceUnavailable, Detail: "the database does not answer"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
