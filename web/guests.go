package web

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/vigilhq/vigil"
)

// External auditors invited to one audit see that audit, its checklist,
// findings, report, the evidence its checklist links to and the assets in
// its scope — only within their window, and every read is in the trail.

type guestKey struct{}

// guest is what an invited external auditor may see.
type guest struct {
	audits []string // audit ids with an active grant
}

func guestOf(r *http.Request) (guest, bool) {
	g, ok := r.Context().Value(guestKey{}).(guest)
	return g, ok
}

// guestRoutes are the routes open to invited external auditors.
var guestRoutes = []string{
	"GET /api/v1/me", "GET /api/v1/orgs",
	"GET /api/v1/frameworks", "GET /api/v1/frameworks/{id}/requirements", "GET /api/v1/frameworks/{id}/correspondence-2013",
	"GET /api/v1/audits", "GET /api/v1/audits/{id}", "GET /api/v1/audits/{id}/checklist", "GET /api/v1/audits/{id}/report.pdf",
	"GET /api/v1/findings", "GET /api/v1/findings/{id}",
	"GET /api/v1/evidence/{id}", "GET /api/v1/evidence/{id}/download",
	"GET /api/v1/assets/{id}",
}

// guestGate limits an external auditor who holds audit grants. It returns
// the request to serve, or false when it answered with a refusal. Members
// with the role and no grant (a certification body's standing access) are
// not limited.
func (s *Server) guestGate(w http.ResponseWriter, r *http.Request, rt Route, fail func(http.ResponseWriter, *http.Request, error)) (*http.Request, bool) {
	actor := actorOf(r)
	if actor.Role != vigil.RoleExternalAuditor {
		return r, true
	}
	grants, err := s.store.GuestGrants(r.Context(), actor.OrgID, actor.UserID)
	if err != nil {
		fail(w, r, err)
		return r, false
	}
	if len(grants) == 0 {
		return r, true
	}
	now := s.store.Now()
	var g guest
	for _, gr := range grants {
		if gr.ActiveAt(now) {
			g.audits = append(g.audits, gr.Audit)
		}
	}
	deny := func(err error) (*http.Request, bool) {
		s.recordGuest(r.Context(), actor, r, "guest.denied")
		fail(w, r, err)
		return r, false
	}
	if len(g.audits) == 0 {
		last := grants[len(grants)-1]
		return deny(vigil.Errorf(vigil.EForbidden, "your access as external auditor is valid from %s until %s",
			last.ValidFrom.Format(time.RFC3339), last.ValidUntil.Format(time.RFC3339)))
	}
	if !slices.Contains(guestRoutes, rt.Pattern()) {
		return deny(vigil.Errorf(vigil.EForbidden, "external auditors see the audit they were invited to, its evidence and its scope only"))
	}
	ctx := context.WithValue(r.Context(), guestKey{}, g)
	switch rt.Pattern() {
	case "GET /api/v1/evidence/{id}", "GET /api/v1/evidence/{id}/download", "GET /api/v1/assets/{id}":
		evidence, assets, err := s.store.AuditReach(ctx, actor.OrgID, g.audits)
		if err != nil {
			fail(w, r, err)
			return r, false
		}
		id := r.PathValue("id")
		allowed := assets
		get := func() (string, error) {
			a, err := s.store.GetAsset(ctx, actor.OrgID, id)
			return a.ID, err
		}
		if rt.Path != "/api/v1/assets/{id}" {
			allowed = evidence
			get = func() (string, error) {
				e, err := s.store.GetEvidence(ctx, actor.OrgID, id)
				return e.ID, err
			}
		}
		resolved, err := get()
		if err != nil || !slices.Contains(allowed, resolved) {
			return deny(vigil.Errorf(vigil.EForbidden, "%s is outside the scope of the audit you were invited to", id))
		}
	}
	r = r.WithContext(ctx)
	s.recordGuest(ctx, actor, r, "guest.view")
	return r, true
}

// recordGuest writes what an external auditor opened to the trail, so the
// organisation can show exactly what the auditor saw.
func (s *Server) recordGuest(ctx context.Context, actor vigil.Actor, r *http.Request, action string) {
	if err := s.store.RecordEvent(ctx, actor.OrgID, action, "user", actor.UserID,
		map[string]any{"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery}); err != nil {
		s.logger.ErrorContext(ctx, "record guest access", "error", err.Error())
	}
}
