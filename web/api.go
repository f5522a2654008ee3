package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
)

type meResponse struct {
	ID    string     `json:"id"`
	Email string     `json:"email"`
	Name  string     `json:"name"`
	Org   string     `json:"org"`
	Role  vigil.Role `json:"role"`
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	writeJSON(w, http.StatusOK, meResponse{ID: a.UserID, Email: a.Email, Name: a.Name, Org: a.OrgID, Role: a.Role})
}

type orgItem struct {
	ID   string     `json:"id"`
	Name string     `json:"name"`
	Role vigil.Role `json:"role"`
}

func (s *Server) apiListOrgs(w http.ResponseWriter, r *http.Request) {
	ms, err := s.store.Memberships(r.Context(), actorOf(r).UserID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	items := make([]orgItem, 0, len(ms))
	for _, m := range ms {
		items = append(items, orgItem{ID: m.OrgID, Name: m.OrgName, Role: m.Role})
	}
	writeJSON(w, http.StatusOK, List[orgItem]{Items: items})
}

func (s *Server) apiListUsers(w http.ResponseWriter, r *http.Request) {
	p, err := parsePage(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	ms, err := s.store.ListMembers(r.Context(), actorOf(r).OrgID, p.Cursor, p.Limit+1)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(ms, p.Limit, func(m vigil.Member) string { return m.MembershipID }))
}

type createUserRequest struct {
	Email    string     `json:"email"`
	Name     string     `json:"name"`
	Role     vigil.Role `json:"role"`
	Password string     `json:"password"`
}

func (s *Server) apiCreateUser(w http.ResponseWriter, r *http.Request) {
	var req createUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.apiError(w, r, err)
		return
	}
	m, err := s.store.AddMember(r.Context(), actorOf(r).OrgID, vigil.NewMember{Email: req.Email, Name: req.Name, Role: req.Role, Password: req.Password})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/users/"+m.ID)
	writeJSON(w, http.StatusCreated, m)
}

func (s *Server) apiGetUser(w http.ResponseWriter, r *http.Request) {
	m, err := s.store.GetMember(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiUpdateUser(w http.ResponseWriter, r *http.Request) {
	var upd vigil.MemberUpdate
	if err := decodeJSON(w, r, &upd); err != nil {
		s.apiError(w, r, err)
		return
	}
	org := actorOf(r).OrgID
	cur, err := s.store.GetMember(r.Context(), org, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	m, err := s.store.UpdateMember(r.Context(), org, cur.ID, upd)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiDeleteUser(w http.ResponseWriter, r *http.Request) {
	org := actorOf(r).OrgID
	cur, err := s.store.GetMember(r.Context(), org, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.store.RemoveMember(r.Context(), org, cur.ID); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// tokenOwnerFilter limits non-admins to their own tokens.
func tokenOwnerFilter(a vigil.Actor) string {
	if a.Role == vigil.RoleAdmin {
		return ""
	}
	return a.UserID
}

func (s *Server) apiListTokens(w http.ResponseWriter, r *http.Request) {
	p, err := parsePage(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	a := actorOf(r)
	ts, err := s.store.ListTokens(r.Context(), a.OrgID, tokenOwnerFilter(a), p.Cursor, p.Limit+1)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(ts, p.Limit, func(t vigil.Token) string { return t.ID }))
}

type createTokenRequest struct {
	Name    string `json:"name"`
	Expires string `json:"expires"` // a Go duration such as "720h"; empty = never
}

type createTokenResponse struct {
	vigil.Token
	Secret string `json:"token"`
}

func (s *Server) apiCreateToken(w http.ResponseWriter, r *http.Request) {
	var req createTokenRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.apiError(w, r, err)
		return
	}
	exp, err := parseExpiry(req.Expires)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	a := actorOf(r)
	m, err := s.store.GetMember(r.Context(), a.OrgID, a.UserID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	t, secret, err := s.store.CreateToken(r.Context(), vigil.NewToken{MembershipID: m.MembershipID, Name: req.Name, ExpiresIn: exp})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, createTokenResponse{Token: t, Secret: secret})
}

// parseExpiry reads a token lifetime such as "720h".
func parseExpiry(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, vigil.Invalid("expires", "must be a positive duration such as 720h")
	}
	return d, nil
}

func (s *Server) apiRevokeToken(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	if _, err := s.store.RevokeToken(r.Context(), a.OrgID, tokenOwnerFilter(a), r.PathValue("id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiListTrail(w http.ResponseWriter, r *http.Request) {
	p, err := parsePage(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	f, err := trailFilter(r, p)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	f.Limit = p.Limit + 1
	es, err := s.store.ListTrail(r.Context(), actorOf(r).OrgID, f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(es, p.Limit, func(e vigil.TrailEntry) string { return strconv.FormatInt(e.Seq, 10) }))
}

// trailFilter reads the trail filters: entity_type, entity_id (or
// entity=TYPE:ID), actor, from, to (RFC 3339).
func trailFilter(r *http.Request, p page) (vigil.TrailFilter, error) {
	q := r.URL.Query()
	f := vigil.TrailFilter{EntityType: q.Get("entity_type"), EntityID: q.Get("entity_id"), ActorID: q.Get("actor")}
	if e := q.Get("entity"); e != "" {
		typ, id, ok := strings.Cut(e, ":")
		if !ok || typ == "" || id == "" {
			return f, vigil.Invalid("entity", "must be TYPE:ID, e.g. user:0190…")
		}
		f.EntityType, f.EntityID = typ, id
	}
	var err error
	if f.From, err = parseTimeParam(q.Get("from"), "from"); err != nil {
		return f, err
	}
	if f.To, err = parseTimeParam(q.Get("to"), "to"); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, vigil.Invalid("to", "must be after from")
	}
	if p.Cursor != "" {
		n, err := strconv.ParseInt(p.Cursor, 10, 64)
		if err != nil || n < 1 {
			return f, vigil.Invalid("cursor", "is not a cursor this server issued")
		}
		f.Before = n
	}
	return f, nil
}

func parseTimeParam(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, vigil.Invalid(name, "must be an RFC 3339 time such as 2026-01-31T00:00:00Z")
	}
	return t.UTC(), nil
}
