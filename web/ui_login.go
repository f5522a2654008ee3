package web

import (
	"net/http"
	"net/url"

	"github.com/vigilhq/vigil"
)

type loginData struct {
	Next  string
	Email string
}

func (s *Server) uiLoginPage(w http.ResponseWriter, r *http.Request) {
	if _, err := s.sessionActor(r); err == nil {
		redirect(w, r, localPath(r.URL.Query().Get("next")))
		return
	}
	s.render(w, r, http.StatusOK, "login", view{Title: "Sign in", Data: loginData{Next: localPath(r.URL.Query().Get("next"))}})
}

func (s *Server) uiLogin(w http.ResponseWriter, r *http.Request) {
	email, pw, next := r.PostFormValue("email"), r.PostFormValue("password"), localPath(r.PostFormValue("next"))
	ctx := vigil.WithActor(r.Context(), vigil.Actor{Type: vigil.ActorUser, ID: "anonymous"})
	u, err := s.store.Authenticate(ctx, email, pw)
	if err != nil {
		status := http.StatusUnauthorized
		if vigil.ErrorCode(err) == vigil.ELocked {
			status = http.StatusTooManyRequests
		} else if vigil.ErrorCode(err) == vigil.EInternal {
			s.uiFail(w, r, err)
			return
		}
		s.render(w, r, status, "login", view{Title: "Sign in", Error: vigil.ErrorMessage(err), Data: loginData{Next: next, Email: email}})
		return
	}
	// A new session id at every login: a session fixed before login is
	// never promoted.
	if old, err := r.Cookie(sessionCookie); err == nil {
		s.store.DeleteSession(r.Context(), old.Value)
	}
	id, err := s.store.CreateSession(r.Context(), u.ID, "", u.TOTPEnabled)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.setSessionCookie(w, r, id)
	if u.TOTPEnabled {
		redirect(w, r, "/login/totp?next="+url.QueryEscape(next))
		return
	}
	redirect(w, r, next)
}

// pendingUser returns the user of a session that still owes its second
// factor.
func (s *Server) pendingUser(r *http.Request) (string, string, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", "", false
	}
	sess, err := s.store.GetSession(r.Context(), c.Value)
	if err != nil || !sess.MFAPending {
		return "", "", false
	}
	return sess.UserID, c.Value, true
}

func (s *Server) uiTOTPPage(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.pendingUser(r); !ok {
		redirect(w, r, "/login")
		return
	}
	s.render(w, r, http.StatusOK, "totp", view{Title: "Two-factor check", Data: loginData{Next: localPath(r.URL.Query().Get("next"))}})
}

func (s *Server) uiTOTP(w http.ResponseWriter, r *http.Request) {
	userID, sessID, ok := s.pendingUser(r)
	if !ok {
		redirect(w, r, "/login")
		return
	}
	next := localPath(r.PostFormValue("next"))
	ctx := vigil.WithActor(r.Context(), vigil.Actor{Type: vigil.ActorUser, ID: userID, UserID: userID})
	if locked, err := s.store.IsLocked(ctx, userID); err != nil || locked {
		s.store.DeleteSession(ctx, sessID)
		s.clearSessionCookie(w, r)
		s.render(w, r, http.StatusTooManyRequests, "login", view{Title: "Sign in", Error: "This account is locked after repeated failed logins; try again later.", Data: loginData{Next: next}})
		return
	}
	good, err := s.store.CheckSecondFactor(ctx, userID, r.PostFormValue("code"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	if !good {
		if err := s.store.LoginFailedSecondFactor(ctx, userID); err != nil {
			s.uiFail(w, r, err)
			return
		}
		s.render(w, r, http.StatusUnauthorized, "totp", view{Title: "Two-factor check", Error: "That code is not right. Enter the current code from your authenticator, or a recovery code.", Data: loginData{Next: next}})
		return
	}
	if err := s.store.LoginSucceeded(ctx, userID, "password+totp"); err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.store.DeleteSession(ctx, sessID)
	id, err := s.store.CreateSession(ctx, userID, "", false)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.setSessionCookie(w, r, id)
	redirect(w, r, next)
}

func (s *Server) uiLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.store.DeleteSession(r.Context(), c.Value); err != nil {
			s.uiFail(w, r, err)
			return
		}
	}
	a := actorOf(r)
	s.store.RecordEvent(r.Context(), a.OrgID, vigil.ActionLogout, "user", a.UserID, nil)
	s.clearSessionCookie(w, r)
	redirect(w, r, "/login")
}
