package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/vigilhq/vigil"
)

// ismsUIRoutes registers the ISMS hub (/isms), the scope pages and the
// pages of the four registers.
func (s *Server) ismsUIRoutes() {
	s.handle("GET", "/isms", UI, ismsReaders, s.uiISMS)
	s.handle("GET", "/isms/scope/edit", UI, ismsEditors, s.uiEditScope)
	s.handle("POST", "/isms/scope", UI, ismsEditors, s.uiSaveScope)
	s.handle("POST", "/isms/scope/approve", UI, ismsEditors, s.uiApproveScope)
	s.handle("GET", "/isms/scope/versions/{n}", UI, ismsReaders, s.uiScopeVersion)

	handleISMSUI(s, ismsUIRegister[vigil.ContextIssue, vigil.ContextIssueInput, vigil.ContextIssueUpdate]{
		base: "/isms/context-issues", nav: "isms", title: "Context issues (4.1)", template: "isms_context",
		list: ismsListOf(s.store.ListContextIssues), get: s.store.GetContextIssue, create: s.store.CreateContextIssue,
		update: s.store.UpdateContextIssue, delete: s.store.DeleteContextIssue,
		id:      func(v vigil.ContextIssue) string { return v.ID },
		label:   func(v vigil.ContextIssue) string { return v.Ref },
		choices: map[string][]string{"kind": ismsStrings(vigil.ContextIssueKinds), "status": ismsStrings(vigil.ContextIssueStatuses)},
		blank:   vigil.ContextIssueInput{Kind: vigil.ContextInternal, Status: vigil.ContextOpen},
		input:   vigil.ContextIssue.Input,
		form: func(r *http.Request) (vigil.ContextIssueInput, vigil.ContextIssueUpdate) {
			in := vigil.ContextIssueInput{
				Title: r.PostFormValue("title"), Description: r.PostFormValue("description"), Effect: r.PostFormValue("effect"),
				Kind: vigil.ContextIssueKind(r.PostFormValue("kind")), Status: vigil.ContextIssueStatus(r.PostFormValue("status")),
			}
			return in, vigil.ContextIssueUpdate{Title: &in.Title, Description: &in.Description, Kind: &in.Kind, Effect: &in.Effect, Status: &in.Status}
		},
	})
	handleISMSUI(s, ismsUIRegister[vigil.InterestedParty, vigil.InterestedPartyInput, vigil.InterestedPartyUpdate]{
		base: "/isms/interested-parties", nav: "isms", title: "Interested parties (4.2)", template: "isms_parties",
		list: ismsListOf(s.store.ListInterestedParties), get: s.store.GetInterestedParty, create: s.store.CreateInterestedParty,
		update: s.store.UpdateInterestedParty, delete: s.store.DeleteInterestedParty,
		id:    func(v vigil.InterestedParty) string { return v.ID },
		label: func(v vigil.InterestedParty) string { return v.Ref },
		blank: vigil.InterestedPartyInput{Relevant: new(true)},
		input: vigil.InterestedParty.Input,
		form: func(r *http.Request) (vigil.InterestedPartyInput, vigil.InterestedPartyUpdate) {
			in := vigil.InterestedPartyInput{Name: r.PostFormValue("name"), Requirements: vigil.ParseTextList(r.PostFormValue("requirements")), Relevant: new(r.PostFormValue("relevant") == "true")}
			return in, vigil.InterestedPartyUpdate{Name: &in.Name, Requirements: &in.Requirements, Relevant: in.Relevant}
		},
	})
	handleISMSUI(s, ismsUIRegister[vigil.ISMSRole, vigil.ISMSRoleInput, vigil.ISMSRoleUpdate]{
		base: "/isms/roles", nav: "isms", title: "ISMS roles and responsibilities (5.3)", template: "isms_roles",
		list: ismsListOf(s.store.ListISMSRoles), get: s.store.GetISMSRole, create: s.store.CreateISMSRole,
		update: s.store.UpdateISMSRole, delete: s.store.DeleteISMSRole,
		id:    func(v vigil.ISMSRole) string { return v.ID },
		label: func(v vigil.ISMSRole) string { return v.Title },
		input: vigil.ISMSRole.Input,
		form: func(r *http.Request) (vigil.ISMSRoleInput, vigil.ISMSRoleUpdate) {
			in := vigil.ISMSRoleInput{Title: r.PostFormValue("title"), Responsibilities: r.PostFormValue("responsibilities"), Holder: r.PostFormValue("holder")}
			return in, vigil.ISMSRoleUpdate{Title: &in.Title, Responsibilities: &in.Responsibilities, Holder: &in.Holder}
		},
	})
	handleISMSUI(s, ismsUIRegister[vigil.Objective, vigil.ObjectiveInput, vigil.ObjectiveUpdate]{
		base: "/isms/objectives", nav: "isms", title: "Information security objectives (6.2)", template: "isms_objectives",
		list: ismsListOf(s.store.ListObjectives), get: s.store.GetObjective, create: s.store.CreateObjective,
		update: s.store.UpdateObjective, delete: s.store.DeleteObjective,
		id:      func(v vigil.Objective) string { return v.ID },
		label:   func(v vigil.Objective) string { return v.Ref },
		choices: map[string][]string{"status": ismsStrings(vigil.ObjectiveStatuses)},
		blank:   vigil.ObjectiveInput{Status: vigil.ObjectivePlanned},
		input:   vigil.Objective.Input,
		form: func(r *http.Request) (vigil.ObjectiveInput, vigil.ObjectiveUpdate) {
			in := vigil.ObjectiveInput{
				Title: r.PostFormValue("title"), Measure: r.PostFormValue("measure"), Target: r.PostFormValue("target"),
				Owner: r.PostFormValue("owner"), DueDate: r.PostFormValue("due_date"),
				Status: vigil.ObjectiveStatus(r.PostFormValue("status")), CurrentValue: r.PostFormValue("current_value"),
			}
			return in, vigil.ObjectiveUpdate{Title: &in.Title, Measure: &in.Measure, Target: &in.Target, Owner: &in.Owner, DueDate: &in.DueDate, Status: &in.Status, CurrentValue: &in.CurrentValue}
		},
	})
}

// ismsStrings turns enumeration values into the options of a select.
func ismsStrings[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// canEditISMS reports whether the caller may change the ISMS, which decides
// whether pages show their forms.
func canEditISMS(a vigil.Actor) bool { return slices.Contains(ismsEditors, a.Role) }

// ismsPeople is what forms with a person field need: the members to choose
// from, and every member's name by user id for display.
type ismsPeople struct {
	Members []vigil.Member
	Names   map[string]string
}

// Name returns the display name of a user id ("—" for nobody, the id for
// someone who is no longer a member).
func (p ismsPeople) Name(id string) string {
	if id == "" {
		return "—"
	}
	if n, ok := p.Names[id]; ok {
		return n
	}
	return id
}

// Approver names who approved a scope version: a person, or the system
// (for versions approved by Vigil itself, such as the demo's).
func (p ismsPeople) Approver(id *string) string {
	if id == nil || *id == "" {
		return "the system"
	}
	return p.Name(*id)
}

// Former reports whether id names someone who is no longer a member, so a
// form can keep them selectable.
func (p ismsPeople) Former(id string) bool {
	_, ok := p.Names[id]
	return id != "" && !ok
}

// ismsPeople loads the members of an organisation for person fields.
func (s *Server) ismsPeople(ctx context.Context, orgID string) (ismsPeople, error) {
	ms, err := s.store.ListMembers(ctx, orgID, "", 1000)
	if err != nil {
		return ismsPeople{}, err
	}
	p := ismsPeople{Members: ms, Names: map[string]string{}}
	for _, m := range ms {
		p.Names[m.ID] = m.Name
	}
	return p, nil
}

// ismsUIRegister is the UI of one register: a list page with an add form,
// a page per record with its edit form, and delete.
type ismsUIRegister[T, In, Upd any] struct {
	base, nav, title, template string
	list                       func(r *http.Request, orgID, after string, limit int) ([]T, error)
	get                        func(ctx context.Context, orgID, id string) (T, error)
	create                     func(ctx context.Context, orgID string, in In) (T, error)
	update                     func(ctx context.Context, orgID, id string, upd Upd) (T, error)
	delete                     func(ctx context.Context, orgID, id string) error
	id, label                  func(T) string
	choices                    map[string][]string             // the options of each select, by field
	blank                      In                              // the add form's starting values
	input                      func(T) In                      // a record's values for its edit form
	form                       func(r *http.Request) (In, Upd) // a posted form as input and as a full update
}

// ismsRegisterPage is what a register's template receives. Item is the
// record being viewed (nil on the list page).
type ismsRegisterPage struct {
	Base    string     // the list page's path
	Today   string     // YYYY-MM-DD, for review dates
	Query   url.Values // the list page's filters
	Choices map[string][]string
	Items   any
	Next    string
	Item    any
	Form    any
	CanEdit bool
	People  ismsPeople
}

// ismsPageSize is how many records a register's list page shows.
const ismsPageSize = 100

// handleISMSUI registers a register's pages: the list with its add form
// (GET and POST base), a record's page with its edit form (GET and POST
// base/{id}) and delete (POST base/{id}/delete). Reads are for ismsReaders,
// forms for ismsEditors; a record of another organisation is not found.
func handleISMSUI[T, In, Upd any](s *Server, c ismsUIRegister[T, In, Upd]) {
	base := c.base
	page := func(w http.ResponseWriter, r *http.Request, status int, v view, item *T, form In) {
		a := actorOf(r)
		people, err := s.ismsPeople(r.Context(), a.OrgID)
		if err != nil {
			s.uiFail(w, r, err)
			return
		}
		d := ismsRegisterPage{Base: base, Query: r.URL.Query(), Today: s.store.Now().UTC().Format(time.DateOnly), Choices: c.choices, Form: form, CanEdit: canEditISMS(a), People: people}
		if item != nil {
			d.Item = *item
			v.Title = c.title + ": " + c.label(*item)
		} else {
			q := r.URL.Query()
			items, err := c.list(r, a.OrgID, q.Get("after"), ismsPageSize+1)
			if err != nil {
				s.uiFail(w, r, err)
				return
			}
			if len(items) > ismsPageSize {
				items = items[:ismsPageSize]
				q.Set("after", c.id(items[ismsPageSize-1]))
				q.Del("done")
				d.Next = base + "?" + q.Encode()
			}
			d.Items = items
			v.Title = c.title
		}
		v.Nav, v.Actor, v.Data = c.nav, a, d
		s.render(w, r, status, c.template, v)
	}
	// edited re-renders a record's page with the values just posted.
	edited := func(w http.ResponseWriter, r *http.Request, status int, v view, form In) {
		item, err := c.get(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
		if err != nil {
			s.uiFail(w, r, err)
			return
		}
		page(w, r, status, v, &item, form)
	}
	failed := func(w http.ResponseWriter, r *http.Request, err error, rerender func(int, view)) {
		if vigil.ErrorCode(err) == vigil.ENotFound {
			s.uiFail(w, r, err)
			return
		}
		s.formFailed(w, r, err, rerender)
	}

	s.handle("GET", base, UI, ismsReaders, func(w http.ResponseWriter, r *http.Request) {
		page(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, nil, c.blank)
	})
	s.handle("POST", base, UI, ismsEditors, func(w http.ResponseWriter, r *http.Request) {
		in, _ := c.form(r)
		v, err := c.create(r.Context(), actorOf(r).OrgID, in)
		if err != nil {
			failed(w, r, err, func(status int, vw view) { page(w, r, status, vw, nil, in) })
			return
		}
		redirect(w, r, base+"?done="+url.QueryEscape("Added "+c.label(v)+"."))
	})
	s.handle("GET", base+"/{id}", UI, ismsReaders, func(w http.ResponseWriter, r *http.Request) {
		item, err := c.get(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
		if err != nil {
			s.uiFail(w, r, err)
			return
		}
		page(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, &item, c.input(item))
	})
	s.handle("POST", base+"/{id}", UI, ismsEditors, func(w http.ResponseWriter, r *http.Request) {
		in, upd := c.form(r)
		v, err := c.update(r.Context(), actorOf(r).OrgID, r.PathValue("id"), upd)
		if err != nil {
			failed(w, r, err, func(status int, vw view) { edited(w, r, status, vw, in) })
			return
		}
		redirect(w, r, base+"?done="+url.QueryEscape("Saved "+c.label(v)+"."))
	})
	s.handle("POST", base+"/{id}/delete", UI, ismsEditors, func(w http.ResponseWriter, r *http.Request) {
		org := actorOf(r).OrgID
		item, err := c.get(r.Context(), org, r.PathValue("id"))
		if err == nil {
			err = c.delete(r.Context(), org, c.id(item))
		}
		if err != nil {
			s.uiFail(w, r, err)
			return
		}
		redirect(w, r, base+"?done="+url.QueryEscape("Deleted "+c.label(item)+"."))
	})
}

// ismsHubPage is what the /isms page (and a frozen scope version's page)
// receives.
type ismsHubPage struct {
	Scope    *vigil.Scope  // nil before the first draft
	Frozen   bool          // a past version is shown on its own
	Versions []vigil.Scope // approved versions, newest first
	CanEdit  bool
	People   ismsPeople

	Issues     []vigil.ContextIssue
	Parties    []vigil.InterestedParty
	Roles      []vigil.ISMSRole
	Objectives []vigil.Objective
	More       map[string]bool // a register has more than the hub shows
}

// ismsHubSize is how many records of each register the hub shows.
const ismsHubSize = 10

func (s *Server) uiISMS(w http.ResponseWriter, r *http.Request) {
	s.ismsHub(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")})
}

func (s *Server) ismsHub(w http.ResponseWriter, r *http.Request, status int, v view) {
	a := actorOf(r)
	ctx := r.Context()
	d := ismsHubPage{CanEdit: canEditISMS(a), More: map[string]bool{}}
	cur, err := s.store.CurrentScope(ctx, a.OrgID)
	switch {
	case err == nil:
		d.Scope = &cur
	case vigil.ErrorCode(err) != vigil.ENotFound:
		s.uiFail(w, r, err)
		return
	}
	if d.Versions, err = s.store.ListScopeVersions(ctx, a.OrgID, 0, 100); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.People, err = s.ismsPeople(ctx, a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	// Each register shows its first records; More says there are others.
	if d.Issues, err = s.store.ListContextIssues(ctx, a.OrgID, "", ismsHubSize+1); err == nil {
		d.Issues, d.More["issues"] = ismsFirst(d.Issues)
		if d.Parties, err = s.store.ListInterestedParties(ctx, a.OrgID, "", ismsHubSize+1); err == nil {
			d.Parties, d.More["parties"] = ismsFirst(d.Parties)
			if d.Roles, err = s.store.ListISMSRoles(ctx, a.OrgID, "", ismsHubSize+1); err == nil {
				d.Roles, d.More["roles"] = ismsFirst(d.Roles)
				if d.Objectives, err = s.store.ListObjectives(ctx, a.OrgID, "", ismsHubSize+1); err == nil {
					d.Objectives, d.More["objectives"] = ismsFirst(d.Objectives)
				}
			}
		}
	}
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	v.Title, v.Nav, v.Actor, v.Data = "Scope & context", "isms", a, d
	s.render(w, r, status, "isms", v)
}

// ismsFirst cuts a list fetched with one extra item to the hub's size.
func ismsFirst[T any](items []T) ([]T, bool) {
	if len(items) > ismsHubSize {
		return items[:ismsHubSize], true
	}
	return items, false
}

func (s *Server) uiScopeVersion(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		s.uiFail(w, r, vigil.Errorf(vigil.ENotFound, "scope version %s not found", r.PathValue("n")))
		return
	}
	v, err := s.store.ScopeVersion(r.Context(), a.OrgID, n)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	people, err := s.ismsPeople(r.Context(), a.OrgID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "isms", view{Title: "Scope statement, version " + strconv.Itoa(n), Nav: "isms", Actor: a,
		Data: ismsHubPage{Scope: &v, Frozen: true, People: people}})
}

// scopeForm is the scope edit form's values. Exclusions always end with a
// few empty rows to fill in.
type scopeForm struct {
	Version                                                     int
	Statement, Units, Locations, Processes, Systems, Interfaces string
	Exclusions                                                  []vigil.ScopeExclusion
}

// scopeFormBlankRows is how many empty exclusion rows the form offers.
const scopeFormBlankRows = 3

func newScopeForm(version int, in vigil.ScopeInput) scopeForm {
	f := scopeForm{
		Version: version, Statement: in.Statement,
		Units: vigil.TextList(in.Units).Text(), Locations: vigil.TextList(in.Locations).Text(), Processes: vigil.TextList(in.Processes).Text(),
		Systems: vigil.TextList(in.Systems).Text(), Interfaces: vigil.TextList(in.Interfaces).Text(),
		Exclusions: slices.Clone(in.Exclusions),
	}
	for range scopeFormBlankRows {
		f.Exclusions = append(f.Exclusions, vigil.ScopeExclusion{})
	}
	return f
}

// scopeInputOf reads the posted scope form. Exclusion rows keep their
// positions, so an error names the row the person filled in.
func scopeInputOf(r *http.Request) vigil.ScopeInput {
	in := vigil.ScopeInput{
		Statement: r.PostFormValue("statement"),
		Units:     vigil.ParseTextList(r.PostFormValue("units")), Locations: vigil.ParseTextList(r.PostFormValue("locations")),
		Processes: vigil.ParseTextList(r.PostFormValue("processes")), Systems: vigil.ParseTextList(r.PostFormValue("systems")),
		Interfaces: vigil.ParseTextList(r.PostFormValue("interfaces")),
	}
	items, reasons := r.PostForm["exclusion_item"], r.PostForm["exclusion_reason"]
	for i := range max(len(items), len(reasons)) {
		var e vigil.ScopeExclusion
		if i < len(items) {
			e.Item = items[i]
		}
		if i < len(reasons) {
			e.Reason = reasons[i]
		}
		in.Exclusions = append(in.Exclusions, e)
	}
	return in
}

func (s *Server) scopeEditPage(w http.ResponseWriter, r *http.Request, status int, v view, f scopeForm) {
	v.Title, v.Nav, v.Actor, v.Data = "Edit the scope statement", "isms", actorOf(r), f
	s.render(w, r, status, "isms_scope", v)
}

func (s *Server) uiEditScope(w http.ResponseWriter, r *http.Request) {
	cur, err := s.store.CurrentScope(r.Context(), actorOf(r).OrgID)
	switch {
	case vigil.ErrorCode(err) == vigil.ENotFound:
		s.scopeEditPage(w, r, http.StatusOK, view{}, newScopeForm(1, vigil.ScopeInput{}))
	case err != nil:
		s.uiFail(w, r, err)
	case cur.Status == vigil.ScopeApproved:
		// Editing an approved version starts the next one from its text.
		s.scopeEditPage(w, r, http.StatusOK, view{}, newScopeForm(cur.Version+1, cur.Input()))
	default:
		s.scopeEditPage(w, r, http.StatusOK, view{}, newScopeForm(cur.Version, cur.Input()))
	}
}

func (s *Server) uiSaveScope(w http.ResponseWriter, r *http.Request) {
	in := scopeInputOf(r)
	v, err := s.store.SaveScopeDraft(r.Context(), actorOf(r).OrgID, in)
	if err != nil {
		version, _ := strconv.Atoi(r.PostFormValue("version"))
		f := newScopeForm(version, in)
		f.Exclusions = f.Exclusions[:len(in.Exclusions)] // the rows as posted, without extra blanks
		s.formFailed(w, r, err, func(status int, vw view) { s.scopeEditPage(w, r, status, vw, f) })
		return
	}
	redirect(w, r, "/isms?done="+url.QueryEscape("Saved draft version "+strconv.Itoa(v.Version)+" of the scope statement."))
}

func (s *Server) uiApproveScope(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	v, err := s.store.ApproveScope(r.Context(), a.OrgID, a.UserID)
	if err != nil {
		s.formFailed(w, r, err, func(status int, vw view) { s.ismsHub(w, r, status, vw) })
		return
	}
	redirect(w, r, "/isms?done="+url.QueryEscape("Approved version "+strconv.Itoa(v.Version)+" of the scope statement."))
}
