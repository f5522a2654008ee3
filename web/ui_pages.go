package web

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image/png"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/pquerna/otp"
	"github.com/vigilhq/vigil"
)

type dashboardData struct {
	Readiness *vigil.Readiness
	Audits    *auditDashboard // audits and certification (audits_ui.go)
}

func (s *Server) uiDashboard(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	var d dashboardData
	// Employees have no access to the registers the checklist summarises.
	if slices.Contains(ismsReaders, a.Role) {
		rd, err := s.store.Readiness(r.Context(), a.OrgID)
		if err != nil {
			s.uiFail(w, r, err)
			return
		}
		d.Readiness = &rd
		// Audits and certification: uncovered areas, schedule problems
		// and overdue corrective actions.
		if d.Audits, err = s.auditDashboardOf(r.Context(), a.OrgID); err != nil {
			s.uiFail(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "dashboard", view{Title: "Dashboard", Nav: "dashboard", Actor: a, Data: d})
}

func (s *Server) uiSwitchOrg(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	org := r.PostFormValue("org")
	ms, err := s.store.Memberships(r.Context(), a.UserID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	for _, m := range ms {
		if m.OrgID == org {
			c, _ := r.Cookie(sessionCookie)
			if err := s.store.SetSessionOrg(r.Context(), c.Value, org); err != nil {
				s.uiFail(w, r, err)
				return
			}
			redirect(w, r, "/")
			return
		}
	}
	s.uiFail(w, r, vigil.Errorf(vigil.ENotFound, "organisation not found"))
}

type membersData struct {
	Members []vigil.Member
	Form    createUserRequest
	Next    string
}

func (s *Server) membersPage(w http.ResponseWriter, r *http.Request, status int, v view, form createUserRequest) {
	a := actorOf(r)
	cursor := ""
	if c := r.URL.Query().Get("after"); c != "" {
		cursor = c
	}
	ms, err := s.store.ListMembers(r.Context(), a.OrgID, cursor, 101)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d := membersData{Members: ms, Form: form}
	if len(ms) > 100 {
		d.Members, d.Next = ms[:100], ms[99].MembershipID
	}
	v.Title, v.Nav, v.Actor, v.Data = "Members", "members", a, d
	s.render(w, r, status, "members", v)
}

func (s *Server) uiMembers(w http.ResponseWriter, r *http.Request) {
	s.membersPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, createUserRequest{Role: vigil.RoleEmployee})
}

func (s *Server) uiAddMember(w http.ResponseWriter, r *http.Request) {
	form := createUserRequest{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Role: vigil.Role(r.PostFormValue("role")), Password: r.PostFormValue("password")}
	m, err := s.store.AddMember(r.Context(), actorOf(r).OrgID, vigil.NewMember{Email: form.Email, Name: form.Name, Role: form.Role, Password: form.Password})
	if err != nil {
		form.Password = ""
		s.formFailed(w, r, err, func(status int, v view) { s.membersPage(w, r, status, v, form) })
		return
	}
	redirect(w, r, "/members?done="+url.QueryEscape("Added "+m.Email+" as "+string(m.Role)+"."))
}

func (s *Server) uiUpdateMember(w http.ResponseWriter, r *http.Request) {
	var upd vigil.MemberUpdate
	if v := r.PostFormValue("role"); v != "" {
		role := vigil.Role(v)
		upd.Role = &role
	}
	if v := r.PostFormValue("disabled"); v != "" {
		d := v == "true"
		upd.Disabled = &d
	}
	m, err := s.store.UpdateMember(r.Context(), actorOf(r).OrgID, r.PathValue("id"), upd)
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.membersPage(w, r, status, v, createUserRequest{Role: vigil.RoleEmployee}) })
		return
	}
	redirect(w, r, "/members?done="+url.QueryEscape("Updated "+m.Email+"."))
}

func (s *Server) uiRemoveMember(w http.ResponseWriter, r *http.Request) {
	if err := s.store.RemoveMember(r.Context(), actorOf(r).OrgID, r.PathValue("id")); err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.membersPage(w, r, status, v, createUserRequest{Role: vigil.RoleEmployee}) })
		return
	}
	redirect(w, r, "/members?done="+url.QueryEscape("Removed the member."))
}

type tokensData struct {
	Tokens  []vigil.Token
	Created *createTokenResponse
}

func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request, status int, v view, created *createTokenResponse) {
	a := actorOf(r)
	ts, err := s.store.ListTokens(r.Context(), a.OrgID, tokenOwnerFilter(a), "", 200)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	v.Title, v.Nav, v.Actor, v.Data = "API tokens", "tokens", a, tokensData{Tokens: ts, Created: created}
	s.render(w, r, status, "tokens", v)
}

func (s *Server) uiTokens(w http.ResponseWriter, r *http.Request) {
	s.tokensPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, nil)
}

func (s *Server) uiCreateToken(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	exp, err := parseExpiry(r.PostFormValue("expires"))
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.tokensPage(w, r, status, v, nil) })
		return
	}
	m, err := s.store.GetMember(r.Context(), a.OrgID, a.UserID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	t, secret, err := s.store.CreateToken(r.Context(), vigil.NewToken{MembershipID: m.MembershipID, Name: r.PostFormValue("name"), ExpiresIn: exp})
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.tokensPage(w, r, status, v, nil) })
		return
	}
	// Shown in this response only; the store keeps a hash.
	s.tokensPage(w, r, http.StatusCreated, view{}, &createTokenResponse{Token: t, Secret: secret})
}

func (s *Server) uiRevokeToken(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	if _, err := s.store.RevokeToken(r.Context(), a.OrgID, tokenOwnerFilter(a), r.PathValue("id")); err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.tokensPage(w, r, status, v, nil) })
		return
	}
	redirect(w, r, "/tokens?done="+url.QueryEscape("Token revoked."))
}

type profileData struct {
	User          vigil.User
	TOTPURL       string
	TOTPSecret    string
	QR            template.URL // data: URL of a PNG we made, so safe to embed
	RecoveryCodes []string
	CalendarURL   string // a new calendar feed URL, shown once
}

func (s *Server) profilePage(w http.ResponseWriter, r *http.Request, status int, v view, d profileData) {
	a := actorOf(r)
	u, err := s.store.GetUser(r.Context(), a.UserID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d.User = u
	v.Title, v.Nav, v.Actor, v.Data = "Profile", "profile", a, d
	s.render(w, r, status, "profile", v)
}

func (s *Server) uiProfile(w http.ResponseWriter, r *http.Request) {
	s.profilePage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, profileData{})
}

func (s *Server) uiChangePassword(w http.ResponseWriter, r *http.Request) {
	cur, nw, confirm := r.PostFormValue("current_password"), r.PostFormValue("new_password"), r.PostFormValue("confirm_password")
	if nw != confirm {
		s.profilePage(w, r, http.StatusBadRequest, view{Error: "The new password and its confirmation differ."}, profileData{})
		return
	}
	if err := s.store.SetPassword(r.Context(), actorOf(r).UserID, &cur, nw); err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.profilePage(w, r, status, v, profileData{}) })
		return
	}
	redirect(w, r, "/profile?done="+url.QueryEscape("Password changed."))
}

// uiCalendarFeed makes (or replaces) the member's calendar feed URL.
func (s *Server) uiCalendarFeed(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	tok, err := s.store.NewCalendarFeed(r.Context(), a.OrgID, a.UserID)
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.profilePage(w, r, status, v, profileData{}) })
		return
	}
	s.profilePage(w, r, http.StatusOK, view{Flash: "A new calendar feed URL was made; the previous one no longer works."},
		profileData{CalendarURL: s.baseURL(r) + "/api/v1/calendar.ics?token=" + tok})
}

func (s *Server) uiBeginTOTP(w http.ResponseWriter, r *http.Request) {
	u, secret, err := s.store.BeginTOTP(r.Context(), actorOf(r).UserID, "Vigil")
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.profilePage(w, r, status, v, profileData{}) })
		return
	}
	qr, err := qrDataURL(u)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.profilePage(w, r, http.StatusOK, view{}, profileData{TOTPURL: u, TOTPSecret: secret, QR: qr})
}

func qrDataURL(otpauth string) (template.URL, error) {
	key, err := otp.NewKeyFromURL(otpauth)
	if err != nil {
		return "", err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

func (s *Server) uiEnableTOTP(w http.ResponseWriter, r *http.Request) {
	codes, err := s.store.EnableTOTP(r.Context(), actorOf(r).UserID, r.PostFormValue("code"))
	if err != nil {
		s.profilePage(w, r, statusOf[vigil.ErrorCode(err)], view{Error: vigil.ErrorMessage(err) + " Start the set-up again."}, profileData{})
		return
	}
	s.profilePage(w, r, http.StatusOK, view{Flash: "Two-factor sign-in is on."}, profileData{RecoveryCodes: codes})
}

func (s *Server) uiDisableTOTP(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	cur := r.PostFormValue("current_password")
	if _, err := s.store.Authenticate(r.Context(), a.Email, cur); err != nil {
		s.profilePage(w, r, http.StatusBadRequest, view{Error: "Your password is needed to turn two-factor sign-in off."}, profileData{})
		return
	}
	if err := s.store.DisableTOTP(r.Context(), a.UserID); err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.profilePage(w, r, status, v, profileData{}) })
		return
	}
	redirect(w, r, "/profile?done="+url.QueryEscape("Two-factor sign-in is off."))
}

type trailData struct {
	Entries    []vigil.TrailEntry
	EntityType string
	Actor      string
	Older      string
}

func (s *Server) uiTrail(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := vigil.TrailFilter{EntityType: strings.TrimSpace(q.Get("entity_type")), ActorID: strings.TrimSpace(q.Get("actor")), Limit: 101}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && b > 0 {
		f.Before = b
	}
	es, err := s.store.ListTrail(r.Context(), actorOf(r).OrgID, f)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d := trailData{Entries: es, EntityType: f.EntityType, Actor: f.ActorID}
	if len(es) > 100 {
		d.Entries = es[:100]
		v := url.Values{"before": {strconv.FormatInt(es[99].Seq, 10)}}
		if f.EntityType != "" {
			v.Set("entity_type", f.EntityType)
		}
		if f.ActorID != "" {
			v.Set("actor", f.ActorID)
		}
		d.Older = "/trail?" + v.Encode()
	}
	s.render(w, r, http.StatusOK, "trail", view{Title: "Audit trail", Nav: "trail", Actor: actorOf(r), Data: d})
}
