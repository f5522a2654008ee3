package web

import (
	"net/http"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/wire"
)

// responders take response actions by hand: end a session, lock or unlock
// an account.
var responders = []vigil.Role{vigil.RoleAdmin, vigil.RoleISMSManager}

func (s *Server) responseRoutes() {
	s.handle("POST", wire.PathInstructions, Agent, nil, s.ingestInstructions)
	s.handle("GET", "/api/v1/response-actions", API, monitoringReaders, s.apiListResponses)
	s.handle("POST", "/api/v1/response-actions", API, responders, s.apiRequestResponse)
	s.handle("GET", "/api/v1/response-actions/{id}", API, monitoringReaders, s.apiGetResponse)
}

// ingestInstructions is the agent's long poll: it reports what it carried
// out and waits up to its Wait for new instructions. New actions wake the
// waiting poll through the server's notifier; other replicas' actions are
// seen by checking the database every half second.
func (s *Server) ingestInstructions(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	var poll wire.InstructionPoll
	if err := decodeWire(agentBody(r), &poll); err != nil {
		s.apiError(w, r, err)
		return
	}
	if poll.Wait < 0 {
		s.apiError(w, r, vigil.Invalid("wait", "must not be negative"))
		return
	}
	if err := s.store.CompleteInstructions(r.Context(), a.ID, poll.Done); err != nil {
		s.apiError(w, r, err)
		return
	}
	wait := min(time.Duration(poll.Wait)*time.Second, wire.MaxInstructionWait)
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	wake := s.instructions.subscribe(a.ID)
	defer s.instructions.unsubscribe(a.ID, wake)
	for {
		ins, err := s.store.TakeInstructions(r.Context(), a.ID)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		if len(ins) > 0 || wait == 0 {
			if ins == nil {
				ins = []wire.Instruction{}
			}
			writeJSON(w, http.StatusOK, wire.Instructions{Instructions: ins})
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-deadline.C:
			wait = 0
		case <-wake:
		case <-tick.C:
		}
	}
}

func (s *Server) apiListResponses(w http.ResponseWriter, r *http.Request) {
	listed(s, w, r, func(ra vigil.ResponseAction) string { return ra.ID }, func(after string, limit int) ([]vigil.ResponseAction, error) {
		return s.store.ListResponseActions(r.Context(), actorOf(r).OrgID, after, limit)
	})
}

func (s *Server) apiGetResponse(w http.ResponseWriter, r *http.Request) {
	ra, err := s.store.GetResponseAction(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	respond(s, w, r, http.StatusOK, ra, err)
}

func (s *Server) apiRequestResponse(w http.ResponseWriter, r *http.Request) {
	var in vigil.ResponseActionInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	ra, err := s.store.RequestResponse(r.Context(), actorOf(r).OrgID, in, "")
	if err == nil {
		s.instructions.notify(ra.HostID)
	}
	respond(s, w, r, http.StatusCreated, ra, err)
}
