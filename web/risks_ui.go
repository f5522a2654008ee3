package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/catalog"
	"github.com/vigilhq/vigil/export"
	"github.com/vigilhq/vigil/store"
)

func (s *Server) riskUIRoutes() {
	s.handle("GET", "/risks", UI, ismsReaders, s.uiRisks)
	s.handle("POST", "/risks", UI, riskEditors, s.uiCreateRisk)
	s.handle("GET", "/risks/new", UI, riskEditors, s.uiNewRisk)
	s.handle("GET", "/risks/export", UI, ismsReaders, s.uiExportRisks)
	s.handle("GET", "/risks/method", UI, ismsReaders, s.uiRiskMethod)
	s.handle("POST", "/risks/method", UI, ismsEditors, s.uiSaveRiskMethod)
	s.handle("GET", "/risks/{id}", UI, ismsReaders, s.uiRisk)
	s.handle("POST", "/risks/{id}", UI, riskEditors, s.uiUpdateRisk)
	s.handle("POST", "/risks/{id}/delete", UI, riskEditors, s.uiDeleteRisk)
	// Any member may ask; only the risk's owner succeeds.
	s.handle("POST", "/risks/{id}/accept", UI, staff, s.uiAcceptRisk)
	s.handle("POST", "/risks/{id}/actions", UI, riskEditors, s.uiCreateRiskAction)
	s.handle("POST", "/risks/{id}/actions/{action}", UI, riskEditors, s.uiUpdateRiskAction)
	s.handle("POST", "/risks/{id}/actions/{action}/delete", UI, riskEditors, s.uiDeleteRiskAction)
}

func canEditRisks(a vigil.Actor) bool { return slices.Contains(riskEditors, a.Role) }

// ---- Heat map ----

// heatMapSVG is an inline SVG matrix: likelihood up the side (highest at
// the top), impact along the bottom, one square per cell with its count.
type heatMapSVG struct {
	ID, Title, Desc string
	Width, Height   int
	Cells           []heatCell
	XTicks, YTicks  []heatTick
	XTitle, YTitle  heatTick
}

type heatCell struct {
	X, Y, Size, TX, TY int
	Fill, Label        string
	Count              int
}

type heatTick struct {
	X, Y int
	Text string
}

const (
	heatMargin = 44
	heatCellPx = 52
)

// newHeatMapSVG lays out one grid of a heat map. Cells at or below the
// threshold are green, those above it amber, and those in the top half of
// what lies above it red.
func newHeatMapSVG(id, title string, h vigil.RiskHeatMap, grid [][]int) heatMapSVG {
	nl, ni := len(h.LikelihoodScale), len(h.ImpactScale)
	maxScore := nl * ni
	svg := heatMapSVG{ID: id, Title: title, Width: heatMargin + ni*heatCellPx + 4, Height: nl*heatCellPx + heatMargin}
	var parts []string
	total := 0
	for l := nl; l >= 1; l-- {
		y := (nl - l) * heatCellPx
		svg.YTicks = append(svg.YTicks, heatTick{X: heatMargin - 8, Y: y + heatCellPx/2 + 5, Text: strconv.Itoa(l)})
		for i := 1; i <= ni; i++ {
			n := grid[l-1][i-1]
			total += n
			score := l * i
			fill := "#cdeccf"
			switch {
			case score > h.AcceptanceThreshold+(maxScore-h.AcceptanceThreshold)/2:
				fill = "#f6b3b3"
			case score > h.AcceptanceThreshold:
				fill = "#fde2a4"
			}
			x := heatMargin + (i-1)*heatCellPx
			label := fmt.Sprintf("Likelihood %d (%s) × impact %d (%s), score %d: %d risk(s)", l, h.LikelihoodScale[l-1], i, h.ImpactScale[i-1], score, n)
			svg.Cells = append(svg.Cells, heatCell{X: x, Y: y, Size: heatCellPx - 2, TX: x + heatCellPx/2 - 1, TY: y + heatCellPx/2 + 6, Fill: fill, Label: label, Count: n})
			if n > 0 {
				parts = append(parts, fmt.Sprintf("%d at likelihood %d × impact %d", n, l, i))
			}
		}
	}
	for i := 1; i <= ni; i++ {
		svg.XTicks = append(svg.XTicks, heatTick{X: heatMargin + (i-1)*heatCellPx + heatCellPx/2 - 1, Y: nl*heatCellPx + 16, Text: strconv.Itoa(i)})
	}
	svg.XTitle = heatTick{X: heatMargin + ni*heatCellPx/2, Y: nl*heatCellPx + 36, Text: "Impact"}
	svg.YTitle = heatTick{X: 14, Y: nl * heatCellPx / 2, Text: "Likelihood"}
	svg.Desc = fmt.Sprintf("%s: %d risk(s) placed", title, total)
	if len(parts) > 0 {
		svg.Desc += ": " + strings.Join(parts, "; ")
	}
	svg.Desc += fmt.Sprintf(". Scores above %d need acceptance.", h.AcceptanceThreshold)
	return svg
}

// ---- Pages ----

// levelChoice is an option of a likelihood or impact select.
type levelChoice struct {
	Value, Label string
}

func levelChoices(scale []string) []levelChoice {
	out := []levelChoice{{"", "not assessed"}}
	for i, l := range scale {
		out = append(out, levelChoice{strconv.Itoa(i + 1), strconv.Itoa(i+1) + " " + l})
	}
	return out
}

type risksPage struct {
	CanEdit   bool
	Method    vigil.RiskMethod
	HeatMaps  []heatMapSVG
	Items     []vigil.Risk
	Total     int
	Next      string
	Status    string
	Treatment string
	Owner     string
	People    ismsPeople
	Statuses  []string
	Treats    []string
	Score     func(*int) string
	Legend    struct{ Likelihood, Impact string }
}

// scaleLegend renders a scale as "1 Rare, 2 Unlikely, …".
func scaleLegend(scale []string) string {
	out := make([]string, len(scale))
	for i, l := range scale {
		out[i] = strconv.Itoa(i+1) + " " + l
	}
	return strings.Join(out, ", ")
}

func arScoreText(v *int) string {
	if v == nil {
		return "—"
	}
	return strconv.Itoa(*v)
}

func (s *Server) uiRisks(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	ctx := r.Context()
	q := r.URL.Query()
	d := risksPage{CanEdit: canEditRisks(a), Status: q.Get("status"), Treatment: q.Get("treatment"), Owner: q.Get("owner"),
		Statuses: ismsStrings(vigil.RiskStatuses), Treats: ismsStrings(vigil.RiskTreatments), Score: arScoreText}
	var err error
	if d.People, err = s.ismsPeople(ctx, a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.Method, err = s.store.RiskMethod(ctx, a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	h, err := s.store.RiskHeatMap(ctx, a.OrgID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d.Legend.Likelihood, d.Legend.Impact = scaleLegend(d.Method.LikelihoodScale), scaleLegend(d.Method.ImpactScale)
	d.HeatMaps = []heatMapSVG{newHeatMapSVG("heat-inherent", "Inherent risk", h, h.Inherent), newHeatMapSVG("heat-residual", "Residual risk", h, h.Residual)}
	f := store.RiskFilter{After: q.Get("after"), Limit: arPageSize + 1}
	if slices.Contains(vigil.RiskStatuses, vigil.RiskStatus(d.Status)) {
		f.Status = vigil.RiskStatus(d.Status)
	}
	if slices.Contains(vigil.RiskTreatments, vigil.RiskTreatment(d.Treatment)) {
		f.Treatment = vigil.RiskTreatment(d.Treatment)
	}
	if _, ok := d.People.Names[d.Owner]; ok {
		f.Owner = d.Owner
	}
	if d.Items, d.Total, err = s.store.ListRisks(ctx, a.OrgID, f); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if len(d.Items) > arPageSize {
		d.Items = d.Items[:arPageSize]
		d.Next = "/risks?" + url.Values{"after": {d.Items[arPageSize-1].ID}, "status": {d.Status}, "treatment": {d.Treatment}, "owner": {d.Owner}}.Encode()
	}
	s.render(w, r, http.StatusOK, "risks", view{Title: "Risks", Nav: "risks", Actor: a, Flash: q.Get("done"), Data: d})
}

// riskForm holds a risk form's values as typed.
type riskForm struct {
	Title, Description, Assets, Threat, Vulnerability, Owner string
	Likelihood, Impact, Treatment, Controls                  string
	ResidualLikelihood, ResidualImpact, Status, NextReview   string
}

func readRiskForm(r *http.Request) riskForm {
	v := r.PostFormValue
	return riskForm{Title: v("title"), Description: v("description"), Assets: v("assets"), Threat: v("threat"), Vulnerability: v("vulnerability"),
		Owner: v("owner"), Likelihood: v("likelihood"), Impact: v("impact"), Treatment: v("treatment"), Controls: v("controls"),
		ResidualLikelihood: v("residual_likelihood"), ResidualImpact: v("residual_impact"), Status: v("status"), NextReview: v("next_review")}
}

func riskFormOf(rk vigil.Risk, assetRefs map[string]string) riskForm {
	assets := make([]string, len(rk.Assets))
	for i, id := range rk.Assets {
		assets[i] = arPersonOr(assetRefs)(id)
	}
	f := riskForm{Title: rk.Title, Description: rk.Description, Assets: strings.Join(assets, "; "), Threat: rk.Threat, Vulnerability: rk.Vulnerability,
		Owner: rk.Owner, Likelihood: arIntText(rk.Likelihood), Impact: arIntText(rk.Impact), Treatment: string(rk.Treatment), Controls: strings.Join(rk.Controls, "; "),
		ResidualLikelihood: arIntText(rk.ResidualLikelihood), ResidualImpact: arIntText(rk.ResidualImpact), Status: string(rk.Status)}
	if rk.NextReview != nil {
		f.NextReview = *rk.NextReview
	}
	return f
}

// input turns the form into a risk input; a level that is not a number is
// a field error. An empty level is "not assessed" (0).
func (f riskForm) input() (vigil.RiskInput, error) {
	in := vigil.RiskInput{Title: f.Title, Description: f.Description, Assets: arSplitRefs(f.Assets), Threat: f.Threat, Vulnerability: f.Vulnerability,
		Owner: f.Owner, Treatment: vigil.RiskTreatment(f.Treatment), Status: vigil.RiskStatus(f.Status), NextReview: f.NextReview,
		Controls: strings.FieldsFunc(f.Controls, func(r rune) bool { return r == ';' || r == ',' || r == ' ' || r == '\n' || r == '\r' })}
	var errs []vigil.FieldError
	for _, l := range []struct {
		name, v string
		dst     **int
	}{{"likelihood", f.Likelihood, &in.Likelihood}, {"impact", f.Impact, &in.Impact}, {"residual_likelihood", f.ResidualLikelihood, &in.ResidualLikelihood}, {"residual_impact", f.ResidualImpact, &in.ResidualImpact}} {
		n := 0
		if l.v != "" {
			var err error
			if n, err = strconv.Atoi(l.v); err != nil {
				errs = append(errs, vigil.FieldError{Field: l.name, Message: "must be a level of the scale"})
			}
		}
		*l.dst = &n
	}
	return in, vigil.InvalidFields(errs)
}

// update turns the form into a full update: a form sends every field.
func (f riskForm) update() (vigil.RiskUpdate, error) {
	in, err := f.input()
	return vigil.RiskUpdate{Title: &in.Title, Description: &in.Description, Assets: &in.Assets, Threat: &in.Threat, Vulnerability: &in.Vulnerability,
		Owner: &in.Owner, Likelihood: in.Likelihood, Impact: in.Impact, Treatment: &in.Treatment, Controls: &in.Controls,
		ResidualLikelihood: in.ResidualLikelihood, ResidualImpact: in.ResidualImpact, Status: &in.Status, NextReview: &in.NextReview}, err
}

// riskControl is a control a risk names, with its title for display.
type riskControl struct {
	Ref, Title, Link string
}

type riskPage struct {
	CanEdit     bool
	CanAccept   bool
	Item        *vigil.Risk
	Form        riskForm
	Method      vigil.RiskMethod
	People      ismsPeople
	Likelihoods []levelChoice
	Impacts     []levelChoice
	Treats      []string
	Statuses    []string
	Assets      []vigil.Asset
	Controls    []riskControl
	Actions     []vigil.RiskAction
	ActionForm  vigil.RiskActionInput
	ActStatuses []string
	Acceptances []vigil.RiskAcceptance
	Score       func(*int) string
	Level       func([]string, *int) string
	Date        func(*string) string
	DateValue   func(*string) string
}

// arDateValue is an optional date as a form value ("" for none).
func arDateValue(v *string) string {
	if v == nil {
		return ""
	}
	return *v
}

func arDateText(v *string) string {
	if v == nil {
		return "—"
	}
	return *v
}

func (s *Server) riskPage(w http.ResponseWriter, r *http.Request, status int, v view, item *vigil.Risk, form riskForm) {
	a := actorOf(r)
	ctx := r.Context()
	d := riskPage{CanEdit: canEditRisks(a), Item: item, Form: form, Treats: ismsStrings(vigil.RiskTreatments),
		ActStatuses: ismsStrings(vigil.RiskActionStatuses), Score: arScoreText, Level: vigil.LevelLabel, Date: arDateText, DateValue: arDateValue,
		ActionForm: vigil.RiskActionInput{Status: vigil.RiskActionPlanned}}
	var err error
	if d.People, err = s.ismsPeople(ctx, a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.Method, err = s.store.RiskMethod(ctx, a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	d.Likelihoods, d.Impacts = levelChoices(d.Method.LikelihoodScale), levelChoices(d.Method.ImpactScale)
	for _, st := range vigil.RiskStatuses {
		// accepted comes from the owner's acceptance, never from the form.
		if st != vigil.RiskAccepted || form.Status == string(vigil.RiskAccepted) {
			d.Statuses = append(d.Statuses, string(st))
		}
	}
	v.Title = "New risk"
	if item != nil {
		v.Title = item.Ref + " " + item.Title
		d.CanAccept = a.UserID != "" && a.UserID == item.Owner && item.ResidualScore != nil &&
			(item.Acceptance == nil || item.Acceptance.ResidualScore != *item.ResidualScore)
		for _, id := range item.Assets {
			as, err := s.store.GetAsset(ctx, a.OrgID, id)
			if err != nil {
				s.uiFail(w, r, err)
				return
			}
			d.Assets = append(d.Assets, as)
		}
		for _, c := range item.Controls {
			rc := riskControl{Ref: c, Link: "/soa/" + c}
			if req, ok := catalog.ISO27001v2022().Control(c); ok {
				rc.Title = req.Title
			} else if oc, err := s.store.GetOrgControl(ctx, a.OrgID, c); err == nil {
				rc.Title, rc.Link = oc.Title, "/soa/controls/"+oc.ID
			}
			d.Controls = append(d.Controls, rc)
		}
		if d.Actions, err = s.store.ListRiskActions(ctx, a.OrgID, item.ID); err != nil {
			s.uiFail(w, r, err)
			return
		}
		if d.Acceptances, err = s.store.RiskAcceptances(ctx, a.OrgID, item.ID); err != nil {
			s.uiFail(w, r, err)
			return
		}
	}
	v.Nav, v.Actor, v.Data = "risks", a, d
	s.render(w, r, status, "risks_edit", v)
}

// loadRisk finds the risk of a path and its form.
func (s *Server) loadRisk(r *http.Request) (vigil.Risk, riskForm, error) {
	org := actorOf(r).OrgID
	rk, err := s.store.GetRisk(r.Context(), org, r.PathValue("id"))
	if err != nil {
		return rk, riskForm{}, err
	}
	refs, err := s.store.AssetRefs(r.Context(), org, rk.Assets)
	return rk, riskFormOf(rk, refs), err
}

func (s *Server) uiNewRisk(w http.ResponseWriter, r *http.Request) {
	s.riskPage(w, r, http.StatusOK, view{}, nil, riskForm{Status: string(vigil.RiskOpen)})
}

func (s *Server) uiRisk(w http.ResponseWriter, r *http.Request) {
	rk, form, err := s.loadRisk(r)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.riskPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, &rk, form)
}

func (s *Server) uiCreateRisk(w http.ResponseWriter, r *http.Request) {
	form := readRiskForm(r)
	in, err := form.input()
	var rk vigil.Risk
	if err == nil {
		rk, err = s.store.CreateRisk(r.Context(), actorOf(r).OrgID, in)
	}
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.riskPage(w, r, status, v, nil, form) })
		return
	}
	redirect(w, r, "/risks/"+rk.ID+"?done="+url.QueryEscape("Added "+rk.Ref+"."))
}

func (s *Server) uiUpdateRisk(w http.ResponseWriter, r *http.Request) {
	cur, _, err := s.loadRisk(r)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	form := readRiskForm(r)
	upd, err := form.update()
	if err == nil {
		_, err = s.store.UpdateRisk(r.Context(), actorOf(r).OrgID, cur.ID, upd)
	}
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.riskPage(w, r, status, v, &cur, form) })
		return
	}
	redirect(w, r, "/risks/"+cur.ID+"?done="+url.QueryEscape("Saved "+cur.Ref+"."))
}

func (s *Server) uiDeleteRisk(w http.ResponseWriter, r *http.Request) {
	cur, _, err := s.loadRisk(r)
	if err == nil {
		err = s.store.DeleteRisk(r.Context(), actorOf(r).OrgID, cur.ID)
	}
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	redirect(w, r, "/risks?done="+url.QueryEscape("Deleted "+cur.Ref+" "+cur.Title+"."))
}

// riskFormFailed answers a failed form on a risk's page: the page again
// with the problem, or an error page when the risk itself is gone.
func (s *Server) riskFormFailed(w http.ResponseWriter, r *http.Request, err error) {
	cur, form, lerr := s.loadRisk(r)
	if lerr != nil {
		s.uiFail(w, r, lerr)
		return
	}
	s.formFailed(w, r, err, func(status int, v view) { s.riskPage(w, r, status, v, &cur, form) })
}

func (s *Server) uiAcceptRisk(w http.ResponseWriter, r *http.Request) {
	rk, err := s.store.AcceptRisk(r.Context(), actorOf(r).OrgID, r.PathValue("id"), r.PostFormValue("comment"))
	if err != nil {
		s.riskFormFailed(w, r, err)
		return
	}
	redirect(w, r, "/risks/"+rk.ID+"?done="+url.QueryEscape(fmt.Sprintf("You accepted %s at residual score %d.", rk.Ref, rk.Acceptance.ResidualScore)))
}

func readActionForm(r *http.Request) vigil.RiskActionInput {
	v := r.PostFormValue
	return vigil.RiskActionInput{Title: v("title"), Owner: v("owner"), DueDate: v("due_date"), Status: vigil.RiskActionStatus(v("status"))}
}

func (s *Server) uiCreateRiskAction(w http.ResponseWriter, r *http.Request) {
	in := readActionForm(r)
	a, err := s.store.CreateRiskAction(r.Context(), actorOf(r).OrgID, r.PathValue("id"), in)
	if err != nil {
		s.riskFormFailed(w, r, err)
		return
	}
	redirect(w, r, "/risks/"+a.RiskID+"?done="+url.QueryEscape("Added the action."))
}

func (s *Server) uiUpdateRiskAction(w http.ResponseWriter, r *http.Request) {
	in := readActionForm(r)
	a, err := s.store.UpdateRiskAction(r.Context(), actorOf(r).OrgID, r.PathValue("id"), r.PathValue("action"),
		vigil.RiskActionUpdate{Title: &in.Title, Owner: &in.Owner, DueDate: &in.DueDate, Status: &in.Status})
	if err != nil {
		s.riskFormFailed(w, r, err)
		return
	}
	redirect(w, r, "/risks/"+a.RiskID+"?done="+url.QueryEscape("Saved the action."))
}

func (s *Server) uiDeleteRiskAction(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteRiskAction(r.Context(), actorOf(r).OrgID, r.PathValue("id"), r.PathValue("action")); err != nil {
		s.riskFormFailed(w, r, err)
		return
	}
	redirect(w, r, "/risks/"+url.PathEscape(r.PathValue("id"))+"?done="+url.QueryEscape("Deleted the action."))
}

func (s *Server) uiExportRisks(w http.ResponseWriter, r *http.Request) {
	f, err := arExportFormat(r, export.CSV, export.XLSX)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	t, err := s.riskTable(r.Context(), actorOf(r).OrgID)
	if err == nil {
		err = arSendExport(w, f, t, nil, "risks")
	}
	if err != nil {
		s.uiFail(w, r, err)
	}
}

// ---- The risk method ----

type riskMethodPage struct {
	CanEdit    bool
	Method     vigil.RiskMethod
	Likelihood []string // five label fields each; empty ones are dropped
	Impact     []string
	Threshold  string
}

// methodLevel is one label field of the method form.
type methodLevel struct {
	N     int
	Label string
}

// Levels numbers the label fields of a scale from 1.
func (riskMethodPage) Levels(labels []string) []methodLevel {
	out := make([]methodLevel, len(labels))
	for i, l := range labels {
		out[i] = methodLevel{N: i + 1, Label: l}
	}
	return out
}

func arPadLabels(labels []string) []string {
	out := slices.Clone(labels)
	for len(out) < vigil.MaxScaleLevels {
		out = append(out, "")
	}
	return out
}

func (s *Server) riskMethodPage(w http.ResponseWriter, r *http.Request, status int, v view, d riskMethodPage) {
	a := actorOf(r)
	m, err := s.store.RiskMethod(r.Context(), a.OrgID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d.CanEdit, d.Method = canEditISMS(a), m
	if d.Likelihood == nil {
		d.Likelihood, d.Impact, d.Threshold = arPadLabels(m.LikelihoodScale), arPadLabels(m.ImpactScale), strconv.Itoa(m.AcceptanceThreshold)
	}
	v.Title, v.Nav, v.Actor, v.Data = "Risk method", "risks", a, d
	s.render(w, r, status, "risks_method", v)
}

func (s *Server) uiRiskMethod(w http.ResponseWriter, r *http.Request) {
	s.riskMethodPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, riskMethodPage{})
}

func (s *Server) uiSaveRiskMethod(w http.ResponseWriter, r *http.Request) {
	// The CSRF check parsed the form already.
	d := riskMethodPage{Likelihood: arPadLabels(r.PostForm["likelihood"]), Impact: arPadLabels(r.PostForm["impact"]), Threshold: r.PostFormValue("acceptance_threshold")}
	nonEmpty := func(ls []string) []string {
		return slices.DeleteFunc(slices.Clone(ls), func(l string) bool { return strings.TrimSpace(l) == "" })
	}
	in := vigil.RiskMethodInput{LikelihoodScale: nonEmpty(d.Likelihood), ImpactScale: nonEmpty(d.Impact)}
	var err error
	if in.AcceptanceThreshold, err = strconv.Atoi(strings.TrimSpace(d.Threshold)); err != nil {
		err = vigil.Invalid("acceptance_threshold", "must be a whole number")
	} else {
		_, err = s.store.SetRiskMethod(r.Context(), actorOf(r).OrgID, in)
	}
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.riskMethodPage(w, r, status, v, d) })
		return
	}
	redirect(w, r, "/risks/method?done="+url.QueryEscape("Saved the risk method."))
}
