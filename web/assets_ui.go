package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/export"
	"github.com/vigilhq/vigil/store"
)

// arPageSize is the number of records a register page shows.
const arPageSize = 100

func (s *Server) assetUIRoutes() {
	s.handle("GET", "/assets", UI, ismsReaders, s.uiAssets)
	s.handle("POST", "/assets", UI, ismsEditors, s.uiCreateAsset)
	s.handle("GET", "/assets/export", UI, ismsReaders, s.uiExportAssets)
	s.handle("GET", "/assets/{id}", UI, ismsReaders, s.uiAsset)
	s.handle("POST", "/assets/{id}", UI, ismsEditors, s.uiUpdateAsset)
	s.handle("POST", "/assets/{id}/delete", UI, ismsEditors, s.uiDeleteAsset)
}

// ratingChoice is an option of a CIA rating select.
type ratingChoice struct {
	Value, Label string
}

var ratingChoices = func() []ratingChoice {
	out := []ratingChoice{{"", "not rated"}}
	for i, l := range vigil.RatingLabels {
		out = append(out, ratingChoice{strconv.Itoa(i + 1), strconv.Itoa(i+1) + " " + l})
	}
	return out
}()

// assetForm holds a form's values as typed, so a refused form comes back
// as it was sent.
type assetForm struct {
	Name, Type, Owner, Classification, Location, Description string
	Confidentiality, Integrity, Availability                 string
}

func assetFormOf(a vigil.Asset) assetForm {
	return assetForm{Name: a.Name, Type: string(a.Type), Owner: a.Owner, Classification: string(a.Classification),
		Location: a.Location, Description: a.Description,
		Confidentiality: arIntText(a.Confidentiality), Integrity: arIntText(a.Integrity), Availability: arIntText(a.Availability)}
}

func arIntText(v *int) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(*v)
}

func readAssetForm(r *http.Request) assetForm {
	v := r.PostFormValue
	return assetForm{Name: v("name"), Type: v("type"), Owner: v("owner"), Classification: v("classification"), Location: v("location"),
		Description: v("description"), Confidentiality: v("confidentiality"), Integrity: v("integrity"), Availability: v("availability")}
}

// input turns the form into an asset input; a bad rating is a field error.
func (f assetForm) input() (vigil.AssetInput, error) {
	in := vigil.AssetInput{Name: f.Name, Type: vigil.AssetType(f.Type), Owner: f.Owner, Classification: vigil.Classification(f.Classification),
		Location: f.Location, Description: f.Description}
	var errs []vigil.FieldError
	for _, c := range []struct {
		name, v string
		dst     **int
	}{{"confidentiality", f.Confidentiality, &in.Confidentiality}, {"integrity", f.Integrity, &in.Integrity}, {"availability", f.Availability, &in.Availability}} {
		n, err := vigil.ParseRating(c.v)
		if err != nil {
			errs = append(errs, vigil.FieldError{Field: c.name, Message: vigil.ErrorMessage(err)})
		}
		*c.dst = n
	}
	return in, vigil.InvalidFields(errs)
}

// update turns the form into a full update: a form sends every field.
func (f assetForm) update() (vigil.AssetUpdate, error) {
	in, err := f.input()
	zero := 0
	orZero := func(v *int) *int {
		if v == nil {
			return &zero
		}
		return v
	}
	return vigil.AssetUpdate{Name: &in.Name, Type: &in.Type, Owner: &in.Owner, Classification: &in.Classification,
		Confidentiality: orZero(in.Confidentiality), Integrity: orZero(in.Integrity), Availability: orZero(in.Availability),
		Location: &in.Location, Description: &in.Description}, err
}

type assetsPage struct {
	CanEdit         bool
	Item            *vigil.Asset
	Items           []vigil.Asset
	Total           int
	Next            string
	Type            string
	Form            assetForm
	People          ismsPeople
	Types           []string
	Classifications []string
	Ratings         []ratingChoice
	Risks           []vigil.Risk
	RiskTotal       int
	Rating          func(*int) string
}

func (s *Server) assetsPage(w http.ResponseWriter, r *http.Request, status int, v view, item *vigil.Asset, form assetForm) {
	a := actorOf(r)
	people, err := s.ismsPeople(r.Context(), a.OrgID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d := assetsPage{CanEdit: canEditISMS(a), Item: item, Form: form, People: people, Types: ismsStrings(vigil.AssetTypes),
		Classifications: ismsStrings(vigil.Classifications), Ratings: ratingChoices, Rating: ratingText}
	v.Title = "Assets"
	if item != nil {
		v.Title = item.Ref + " " + item.Name
		d.Risks, d.RiskTotal, err = s.store.ListRisks(r.Context(), a.OrgID, store.RiskFilter{Asset: item.ID, Limit: arPageSize})
	} else {
		q := r.URL.Query()
		d.Type = q.Get("type")
		f := store.AssetFilter{After: q.Get("after"), Limit: arPageSize + 1}
		if slices.Contains(vigil.AssetTypes, vigil.AssetType(d.Type)) {
			f.Type = vigil.AssetType(d.Type)
		}
		d.Items, d.Total, err = s.store.ListAssets(r.Context(), a.OrgID, f)
		if len(d.Items) > arPageSize {
			d.Items = d.Items[:arPageSize]
			d.Next = "/assets?" + url.Values{"after": {d.Items[arPageSize-1].ID}, "type": {d.Type}}.Encode()
		}
	}
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	v.Nav, v.Actor, v.Data = "assets", a, d
	s.render(w, r, status, "assets", v)
}

// ratingText renders a rating as "3 high" ("—" when not rated).
func ratingText(v *int) string {
	if v == nil {
		return "—"
	}
	return strconv.Itoa(*v) + " " + vigil.RatingLabel(v)
}

func (s *Server) uiAssets(w http.ResponseWriter, r *http.Request) {
	s.assetsPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, nil, assetForm{Type: string(vigil.AssetInformation)})
}

func (s *Server) uiCreateAsset(w http.ResponseWriter, r *http.Request) {
	form := readAssetForm(r)
	in, err := form.input()
	var a vigil.Asset
	if err == nil {
		a, err = s.store.CreateAsset(r.Context(), actorOf(r).OrgID, in)
	}
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.assetsPage(w, r, status, v, nil, form) })
		return
	}
	redirect(w, r, "/assets/"+a.ID+"?done="+url.QueryEscape("Added "+a.Ref+"."))
}

func (s *Server) uiAsset(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.GetAsset(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.assetsPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, &a, assetFormOf(a))
}

func (s *Server) uiUpdateAsset(w http.ResponseWriter, r *http.Request) {
	org := actorOf(r).OrgID
	cur, err := s.store.GetAsset(r.Context(), org, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	form := readAssetForm(r)
	upd, err := form.update()
	if err == nil {
		cur, err = s.store.UpdateAsset(r.Context(), org, cur.ID, upd)
	}
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.assetsPage(w, r, status, v, &cur, form) })
		return
	}
	redirect(w, r, "/assets/"+cur.ID+"?done="+url.QueryEscape("Saved "+cur.Ref+"."))
}

func (s *Server) uiDeleteAsset(w http.ResponseWriter, r *http.Request) {
	org := actorOf(r).OrgID
	cur, err := s.store.GetAsset(r.Context(), org, r.PathValue("id"))
	if err == nil {
		err = s.store.DeleteAsset(r.Context(), org, cur.ID)
	}
	if err != nil {
		if vigil.ErrorCode(err) == vigil.ENotFound {
			s.uiFail(w, r, err)
			return
		}
		s.formFailed(w, r, err, func(status int, v view) { s.assetsPage(w, r, status, v, &cur, assetFormOf(cur)) })
		return
	}
	redirect(w, r, "/assets?done="+url.QueryEscape("Deleted "+cur.Ref+" "+cur.Name+"."))
}

func (s *Server) uiExportAssets(w http.ResponseWriter, r *http.Request) {
	f, err := arExportFormat(r, export.CSV, export.XLSX)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	t, err := s.assetTable(r.Context(), actorOf(r).OrgID)
	if err == nil {
		err = arSendExport(w, f, t, nil, "assets")
	}
	if err != nil {
		s.uiFail(w, r, err)
	}
}

// arSplitRefs splits a list typed in a form, separated by ';' or new lines
// (not commas: asset names may hold them).
func arSplitRefs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' || r == '\r' })
}
