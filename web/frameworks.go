package web

import (
	"net/http"
	"slices"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/catalog"
)

// The framework catalogue is the published standard, not organisation
// data, so every member may read it.

// frameworkRoutes registers the frameworks endpoints (API and UI).
func (s *Server) frameworkRoutes() {
	s.handle("GET", "/api/v1/frameworks", API, everyone, s.apiListFrameworks)
	s.handle("GET", "/api/v1/frameworks/{id}/requirements", API, everyone, s.apiFrameworkRequirements)
	s.handle("GET", "/api/v1/frameworks/{id}/correspondence-2013", API, everyone, s.apiFrameworkCorrespondence)
	s.handle("GET", "/isms/framework", UI, everyone, s.uiFramework)
	s.handle("GET", "/isms/framework/2013", UI, everyone, s.uiFrameworkCorrespondence)
}

var frameworkIDParam = param{Name: "id", In: "path", Description: "Framework id, such as iso27001-2022.", Type: "string", Required: true}

// frameworkOperations documents the frameworks API for the OpenAPI document.
var frameworkOperations = []operation{
	{Method: "GET", Path: "/api/v1/frameworks", Summary: "The frameworks Vigil ships (ISO/IEC 27001:2022 has the id iso27001-2022).", Status: 200, Response: "Framework", List: true},
	{Method: "GET", Path: "/api/v1/frameworks/{id}/requirements", Summary: "Every clause and Annex A control of a framework: clauses first, then controls in numeric order.", Params: []param{
		frameworkIDParam,
		{Name: "kind", In: "query", Description: "Only clauses or only controls: clause or control.", Type: "string"},
		{Name: "theme", In: "query", Description: "Only controls of this theme: Organizational, People, Physical or Technological.", Type: "string"},
	}, Status: 200, Response: "FrameworkRequirement", List: true},
	{Method: "GET", Path: "/api/v1/frameworks/{id}/correspondence-2013", Summary: "Where each ISO/IEC 27001:2013 Annex A control went in the 2022 edition, and the controls new in 2022.",
		Params: []param{frameworkIDParam}, Status: 200, Response: "FrameworkCorrespondence2013"},
}

// frameworkSchemas are the OpenAPI schemas the frameworks operations refer to.
func frameworkSchemas() map[string]any {
	integer := map[string]any{"type": "integer"}
	themes := map[string]any{"type": "string", "description": "Set for controls only.", "enum": []string{string(catalog.ThemeOrganizational), string(catalog.ThemePeople), string(catalog.ThemePhysical), string(catalog.ThemeTechnological)}}
	requirement := obj([]string{"ref", "title", "kind"}, map[string]any{
		"ref": str(), "title": str(),
		"kind":    map[string]any{"type": "string", "enum": []string{string(catalog.KindClause), string(catalog.KindControl)}},
		"theme":   themes,
		"purpose": map[string]any{"type": "string", "description": "What the item asks for, in Vigil's own words."},
	})
	return map[string]any{
		"Framework": obj([]string{"id", "name", "clauses", "controls"}, map[string]any{
			"id": str(), "name": str(), "clauses": integer, "controls": integer,
		}),
		"FrameworkRequirement": requirement,
		"FrameworkCorrespondence2013": obj([]string{"framework", "mappings", "new_in_2022"}, map[string]any{
			"framework": str(),
			"mappings": map[string]any{"type": "array", "items": obj([]string{"ref_2013", "title_2013", "refs_2022"}, map[string]any{
				"ref_2013": map[string]any{"type": "string", "description": "2013 reference, such as A.12.4.1."}, "title_2013": str(),
				"refs_2022": map[string]any{"type": "array", "items": str(), "description": "The 2022 controls that took it over."},
			})},
			"new_in_2022": map[string]any{"type": "array", "items": requirement, "description": "Controls with no 2013 predecessor."},
		}),
	}
}

// frameworkByID returns the framework of the route's id, or not-found.
func frameworkByID(id string) (*catalog.Framework, error) {
	if id != catalog.FrameworkID {
		return nil, vigil.Errorf(vigil.ENotFound, "framework %s not found (Vigil ships %s)", id, catalog.FrameworkID)
	}
	return catalog.ISO27001v2022(), nil
}

type frameworkItem struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Clauses  int    `json:"clauses"`
	Controls int    `json:"controls"`
}

func (s *Server) apiListFrameworks(w http.ResponseWriter, r *http.Request) {
	f := catalog.ISO27001v2022()
	item := frameworkItem{ID: f.ID, Name: f.Name, Clauses: len(f.Clauses()), Controls: len(f.Controls())}
	writeJSON(w, http.StatusOK, List[frameworkItem]{Items: []frameworkItem{item}})
}

func (s *Server) apiFrameworkRequirements(w http.ResponseWriter, r *http.Request) {
	f, err := frameworkByID(r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	kind := catalog.Kind(r.URL.Query().Get("kind"))
	if kind != "" && kind != catalog.KindClause && kind != catalog.KindControl {
		s.apiError(w, r, vigil.Invalid("kind", "must be clause or control"))
		return
	}
	theme := catalog.Theme(r.URL.Query().Get("theme"))
	if theme != "" && !slices.Contains(frameworkThemes, theme) {
		s.apiError(w, r, vigil.Invalid("theme", "must be Organizational, People, Physical or Technological"))
		return
	}
	items := []catalog.Requirement{}
	for _, req := range f.Requirements {
		if (kind == "" || req.Kind == kind) && (theme == "" || req.Theme == theme) {
			items = append(items, req)
		}
	}
	writeJSON(w, http.StatusOK, List[catalog.Requirement]{Items: items})
}

// frameworkThemes lists the Annex A themes in the standard's order.
var frameworkThemes = []catalog.Theme{catalog.ThemeOrganizational, catalog.ThemePeople, catalog.ThemePhysical, catalog.ThemeTechnological}

// frameworkCorrespondence is the 2013 to 2022 correspondence as the API
// returns it.
type frameworkCorrespondence struct {
	Framework string                `json:"framework"`
	Mappings  []catalog.Mapping2013 `json:"mappings"`
	NewIn2022 []catalog.Requirement `json:"new_in_2022"`
}

func frameworkCorrespondenceOf(f *catalog.Framework) frameworkCorrespondence {
	out := frameworkCorrespondence{Framework: f.ID, Mappings: catalog.Correspondence2013(), NewIn2022: []catalog.Requirement{}}
	for _, ref := range catalog.NewIn2022() {
		if c, ok := f.Control(ref); ok {
			out.NewIn2022 = append(out.NewIn2022, c)
		}
	}
	return out
}

func (s *Server) apiFrameworkCorrespondence(w http.ResponseWriter, r *http.Request) {
	f, err := frameworkByID(r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, frameworkCorrespondenceOf(f))
}

// frameworkTheme is the controls of one theme, for the catalogue page.
type frameworkTheme struct {
	Name     catalog.Theme
	ID       string
	Controls []catalog.Requirement
}

type frameworkPage struct {
	Name    string
	Clauses []catalog.Requirement
	Themes  []frameworkTheme
	Total   int
	New     map[string]bool
}

func (s *Server) uiFramework(w http.ResponseWriter, r *http.Request) {
	f := catalog.ISO27001v2022()
	d := frameworkPage{Name: f.Name, Clauses: f.Clauses(), New: map[string]bool{}}
	for _, ref := range catalog.NewIn2022() {
		d.New[ref] = true
	}
	for _, th := range frameworkThemes {
		t := frameworkTheme{Name: th, ID: "theme-" + string(th)}
		for _, c := range f.Controls() {
			if c.Theme == th {
				t.Controls = append(t.Controls, c)
			}
		}
		d.Total += len(t.Controls)
		d.Themes = append(d.Themes, t)
	}
	s.render(w, r, http.StatusOK, "frameworks", view{Title: f.Name, Nav: "isms", Actor: actorOf(r), Data: d})
}

// frameworkMappingRow is one 2013 control with the titles of its 2022
// successors, for the correspondence page.
type frameworkMappingRow struct {
	Ref2013, Title2013 string
	To                 []catalog.Requirement
}

type frameworkCorrespondencePage struct {
	Name      string
	Rows      []frameworkMappingRow
	NewIn2022 []catalog.Requirement
}

func (s *Server) uiFrameworkCorrespondence(w http.ResponseWriter, r *http.Request) {
	f := catalog.ISO27001v2022()
	c := frameworkCorrespondenceOf(f)
	d := frameworkCorrespondencePage{Name: f.Name, NewIn2022: c.NewIn2022}
	for _, m := range c.Mappings {
		row := frameworkMappingRow{Ref2013: m.Ref2013, Title2013: m.Title2013}
		for _, ref := range m.Refs2022 {
			if ctl, ok := f.Control(ref); ok {
				row.To = append(row.To, ctl)
			}
		}
		d.Rows = append(d.Rows, row)
	}
	s.render(w, r, http.StatusOK, "frameworks_2013", view{Title: "From ISO/IEC 27001:2013 to 2022", Nav: "isms", Actor: actorOf(r), Data: d})
}
