package vigil

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// RiskFormula is how a score is computed; the only formula Vigil offers.
const RiskFormula = "likelihood × impact"

// Scale sizes a risk method may use.
const (
	MinScaleLevels = 3
	MaxScaleLevels = 5
)

// RiskMethod is an organisation's risk assessment method: the likelihood
// and impact scales (level n is the n-th label) and the acceptance
// threshold. A risk whose residual score is above the threshold needs the
// formal acceptance of its owner.
type RiskMethod struct {
	LikelihoodScale     []string `json:"likelihood_scale"`
	ImpactScale         []string `json:"impact_scale"`
	Formula             string   `json:"formula"`
	AcceptanceThreshold int      `json:"acceptance_threshold"`
	MaxScore            int      `json:"max_score"`
	// Configured is false while the organisation uses the default method.
	Configured bool       `json:"configured"`
	UpdatedAt  *time.Time `json:"updated_at"`
	UpdatedBy  string     `json:"updated_by"`
}

// DefaultRiskMethod is the method of an organisation that has not set one:
// a 5×5 matrix where scores above 8 need acceptance.
func DefaultRiskMethod() RiskMethod {
	return RiskMethod{
		LikelihoodScale:     []string{"Rare", "Unlikely", "Possible", "Likely", "Almost certain"},
		ImpactScale:         []string{"Negligible", "Minor", "Moderate", "Major", "Severe"},
		Formula:             RiskFormula,
		AcceptanceThreshold: 8,
		MaxScore:            25,
	}
}

// RiskMethodInput sets the risk method.
type RiskMethodInput struct {
	LikelihoodScale     []string `json:"likelihood_scale"`
	ImpactScale         []string `json:"impact_scale"`
	Formula             string   `json:"formula"`
	AcceptanceThreshold int      `json:"acceptance_threshold"`
}

// Normalize trims the labels and reports every bad field.
func (in *RiskMethodInput) Normalize() []FieldError {
	var errs []FieldError
	for _, s := range []struct {
		field  string
		labels *[]string
	}{{"likelihood_scale", &in.LikelihoodScale}, {"impact_scale", &in.ImpactScale}} {
		if n := len(*s.labels); n < MinScaleLevels || n > MaxScaleLevels {
			errs = append(errs, FieldError{s.field, "must have from 3 to 5 levels, lowest first"})
			continue
		}
		seen := map[string]bool{}
		for i, l := range *s.labels {
			l = strings.TrimSpace(l)
			(*s.labels)[i] = l
			switch {
			case l == "":
				errs = append(errs, FieldError{s.field, "level " + strconv.Itoa(i+1) + " needs a label"})
			case utf8.RuneCountInString(l) > 60:
				errs = append(errs, FieldError{s.field, "labels must be at most 60 characters"})
			case seen[strings.ToLower(l)]:
				errs = append(errs, FieldError{s.field, "label " + strconv.Quote(l) + " is used twice"})
			}
			seen[strings.ToLower(l)] = true
		}
	}
	f := strings.ToLower(strings.Join(strings.Fields(in.Formula), " "))
	if f != "" && f != strings.ToLower(RiskFormula) && f != "likelihood * impact" && f != "likelihood x impact" {
		errs = append(errs, FieldError{"formula", "must be " + RiskFormula + " (the only formula offered)"})
	}
	in.Formula = RiskFormula
	maxScore := len(in.LikelihoodScale) * len(in.ImpactScale)
	if in.AcceptanceThreshold < 1 || (maxScore > 0 && in.AcceptanceThreshold >= maxScore) {
		errs = append(errs, FieldError{"acceptance_threshold", "must be at least 1 and below the highest score (" + strconv.Itoa(maxScore) + ")"})
	}
	return errs
}

// RiskScore computes likelihood × impact, or nil while either is not assessed.
func RiskScore(likelihood, impact *int) *int {
	if likelihood == nil || impact == nil {
		return nil
	}
	s := *likelihood * *impact
	return &s
}

// Above reports whether a score is above the acceptance threshold.
func (m RiskMethod) Above(score *int) bool {
	return score != nil && *score > m.AcceptanceThreshold
}

// LevelLabel returns "n (label)" for a level of a scale, or "" for nil.
func LevelLabel(scale []string, level *int) string {
	if level == nil {
		return ""
	}
	if *level >= 1 && *level <= len(scale) {
		return strconv.Itoa(*level) + " (" + scale[*level-1] + ")"
	}
	return strconv.Itoa(*level)
}

// RiskTreatment is how a risk is treated (ISO/IEC 27001 6.1.3).
type RiskTreatment string

// The treatments.
const (
	TreatModify RiskTreatment = "modify"
	TreatRetain RiskTreatment = "retain"
	TreatAvoid  RiskTreatment = "avoid"
	TreatShare  RiskTreatment = "share"
)

// RiskTreatments lists every treatment.
var RiskTreatments = []RiskTreatment{TreatModify, TreatRetain, TreatAvoid, TreatShare}

// RiskStatus is where a risk stands.
type RiskStatus string

// The statuses. RiskAccepted is set only by the owner's formal acceptance.
const (
	RiskOpen        RiskStatus = "open"
	RiskInTreatment RiskStatus = "in_treatment"
	RiskTreated     RiskStatus = "treated"
	RiskAccepted    RiskStatus = "accepted"
	RiskClosed      RiskStatus = "closed"
)

// RiskStatuses lists every status.
var RiskStatuses = []RiskStatus{RiskOpen, RiskInTreatment, RiskTreated, RiskAccepted, RiskClosed}

// Risk is an entry of the risk register. Scores are computed; levels and
// scores are nil while not assessed.
type Risk struct {
	ID                 string          `json:"id"`
	Ref                string          `json:"ref"`
	Title              string          `json:"title"`
	Description        string          `json:"description"`
	Assets             []string        `json:"assets"`
	Threat             string          `json:"threat"`
	Vulnerability      string          `json:"vulnerability"`
	Owner              string          `json:"owner"`
	Likelihood         *int            `json:"likelihood"`
	Impact             *int            `json:"impact"`
	InherentScore      *int            `json:"inherent_score"`
	Treatment          RiskTreatment   `json:"treatment"`
	Controls           []string        `json:"controls"`
	ResidualLikelihood *int            `json:"residual_likelihood"`
	ResidualImpact     *int            `json:"residual_impact"`
	ResidualScore      *int            `json:"residual_score"`
	Status             RiskStatus      `json:"status"`
	NextReview         *string         `json:"next_review"`
	AboveThreshold     bool            `json:"above_threshold"`
	Acceptance         *RiskAcceptance `json:"acceptance"`
	CreatedAt          time.Time       `json:"created_at"`
	UpdatedAt          time.Time       `json:"updated_at"`
}

// RiskAcceptance is the owner's formal acceptance of a residual risk: who,
// when, and the residual score at that moment.
type RiskAcceptance struct {
	AcceptedBy    string    `json:"accepted_by"`
	AcceptedAt    time.Time `json:"accepted_at"`
	ResidualScore int       `json:"residual_score"`
	Comment       string    `json:"comment"`
}

// NeedsAcceptance reports whether the risk's residual score is above the
// threshold without a formal acceptance in force.
func (r Risk) NeedsAcceptance() bool {
	return r.AboveThreshold && r.Acceptance == nil
}

// RiskInput is a new risk, or the full state of one after an update.
// Assets are asset ids or references; controls are Annex A refs ("8.5") or
// own control refs ("CTL-2"); Owner is a member's user id or email.
type RiskInput struct {
	Title              string        `json:"title"`
	Description        string        `json:"description"`
	Assets             []string      `json:"assets"`
	Threat             string        `json:"threat"`
	Vulnerability      string        `json:"vulnerability"`
	Owner              string        `json:"owner"`
	Likelihood         *int          `json:"likelihood"`
	Impact             *int          `json:"impact"`
	Treatment          RiskTreatment `json:"treatment"`
	Controls           []string      `json:"controls"`
	ResidualLikelihood *int          `json:"residual_likelihood"`
	ResidualImpact     *int          `json:"residual_impact"`
	Status             RiskStatus    `json:"status"`
	NextReview         string        `json:"next_review"`
}

// RiskUpdate changes a risk; nil fields stay as they are. A level of 0
// clears it; an empty next_review clears the date.
type RiskUpdate struct {
	Title              *string        `json:"title"`
	Description        *string        `json:"description"`
	Assets             *[]string      `json:"assets"`
	Threat             *string        `json:"threat"`
	Vulnerability      *string        `json:"vulnerability"`
	Owner              *string        `json:"owner"`
	Likelihood         *int           `json:"likelihood"`
	Impact             *int           `json:"impact"`
	Treatment          *RiskTreatment `json:"treatment"`
	Controls           *[]string      `json:"controls"`
	ResidualLikelihood *int           `json:"residual_likelihood"`
	ResidualImpact     *int           `json:"residual_impact"`
	Status             *RiskStatus    `json:"status"`
	NextReview         *string        `json:"next_review"`
}

// Input returns the risk as the input that would recreate it.
func (r Risk) Input() RiskInput {
	in := RiskInput{Title: r.Title, Description: r.Description, Assets: slices.Clone(r.Assets), Threat: r.Threat,
		Vulnerability: r.Vulnerability, Owner: r.Owner, Likelihood: r.Likelihood, Impact: r.Impact, Treatment: r.Treatment,
		Controls: slices.Clone(r.Controls), ResidualLikelihood: r.ResidualLikelihood, ResidualImpact: r.ResidualImpact, Status: r.Status}
	if r.NextReview != nil {
		in.NextReview = *r.NextReview
	}
	return in
}

// Apply returns in with the fields of u that are set.
func (u RiskUpdate) Apply(in RiskInput) RiskInput {
	arSetStr(&in.Title, u.Title)
	arSetStr(&in.Description, u.Description)
	if u.Assets != nil {
		in.Assets = slices.Clone(*u.Assets)
	}
	arSetStr(&in.Threat, u.Threat)
	arSetStr(&in.Vulnerability, u.Vulnerability)
	arSetStr(&in.Owner, u.Owner)
	arSetInt(&in.Likelihood, u.Likelihood)
	arSetInt(&in.Impact, u.Impact)
	if u.Treatment != nil {
		in.Treatment = *u.Treatment
	}
	if u.Controls != nil {
		in.Controls = slices.Clone(*u.Controls)
	}
	arSetInt(&in.ResidualLikelihood, u.ResidualLikelihood)
	arSetInt(&in.ResidualImpact, u.ResidualImpact)
	if u.Status != nil {
		in.Status = *u.Status
	}
	arSetStr(&in.NextReview, u.NextReview)
	return in
}

// Normalize trims the input, checks levels against the method and reports
// every bad field. References to assets, controls and people are checked by
// the store.
func (in *RiskInput) Normalize(m RiskMethod) []FieldError {
	var errs []FieldError
	in.Title = strings.TrimSpace(in.Title)
	switch {
	case in.Title == "":
		errs = append(errs, FieldError{"title", "must not be empty"})
	case utf8.RuneCountInString(in.Title) > 200:
		errs = append(errs, FieldError{"title", "must be at most 200 characters"})
	}
	in.Description = strings.TrimSpace(in.Description)
	errs = arCheckLen(errs, "description", in.Description, 10000)
	in.Threat = strings.TrimSpace(in.Threat)
	errs = arCheckLen(errs, "threat", in.Threat, 1000)
	in.Vulnerability = strings.TrimSpace(in.Vulnerability)
	errs = arCheckLen(errs, "vulnerability", in.Vulnerability, 1000)
	in.Owner = strings.TrimSpace(in.Owner)
	for _, l := range []struct {
		field string
		v     **int
		scale []string
	}{
		{"likelihood", &in.Likelihood, m.LikelihoodScale}, {"impact", &in.Impact, m.ImpactScale},
		{"residual_likelihood", &in.ResidualLikelihood, m.LikelihoodScale}, {"residual_impact", &in.ResidualImpact, m.ImpactScale},
	} {
		if *l.v != nil && **l.v == 0 {
			*l.v = nil
		}
		if *l.v != nil && (**l.v < 1 || **l.v > len(l.scale)) {
			errs = append(errs, FieldError{l.field, "must be from 1 to " + strconv.Itoa(len(l.scale)) + " on the organisation's scale"})
		}
	}
	if (in.Likelihood == nil) != (in.Impact == nil) {
		errs = append(errs, FieldError{"impact", "likelihood and impact are assessed together: give both or neither"})
	}
	if (in.ResidualLikelihood == nil) != (in.ResidualImpact == nil) {
		errs = append(errs, FieldError{"residual_impact", "residual likelihood and impact are assessed together: give both or neither"})
	}
	in.Treatment = RiskTreatment(strings.ToLower(strings.TrimSpace(string(in.Treatment))))
	if in.Treatment != "" && !slices.Contains(RiskTreatments, in.Treatment) {
		errs = append(errs, FieldError{"treatment", "must be one of " + arJoinEnum(RiskTreatments)})
	}
	in.Status = RiskStatus(strings.ToLower(strings.TrimSpace(string(in.Status))))
	if in.Status == "" {
		in.Status = RiskOpen
	}
	if !slices.Contains(RiskStatuses, in.Status) {
		errs = append(errs, FieldError{"status", "must be one of " + arJoinEnum(RiskStatuses)})
	}
	var err error
	if in.NextReview, err = ParseDateField("next_review", in.NextReview); err != nil {
		errs = append(errs, arFields(err)...)
	}
	in.Assets = arUnique(in.Assets)
	in.Controls = arUnique(in.Controls)
	for i, c := range in.Controls {
		in.Controls[i] = NormalizeControlRef(c)
	}
	in.Controls = arUnique(in.Controls)
	return errs
}

func arUnique(vs []string) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		v = strings.TrimSpace(v)
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// NormalizeControlRef writes a control reference the one way the store
// keeps it: Annex A refs without an "A." prefix ("A.8.5" is "8.5"), own
// control refs upper-case ("ctl-2" is "CTL-2").
func NormalizeControlRef(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 2 && (s[0] == 'A' || s[0] == 'a') && s[1] == '.' {
		s = s[2:]
	}
	if n := ParseRefNumber(OwnControlKind, s); n > 0 {
		return OwnControlKind + "-" + strconv.Itoa(n)
	}
	return s
}

// arFields returns the bad fields of an EInvalid error.
func arFields(err error) []FieldError {
	if e, ok := err.(*Error); ok {
		return e.Fields
	}
	return []FieldError{{Field: "body", Message: ErrorMessage(err)}}
}

// SplitRefList splits a ';'-separated list (as in import files), dropping
// empty items.
func SplitRefList(s string) []string {
	return arUnique(strings.FieldsFunc(s, func(r rune) bool { return r == ';' }))
}

// RiskActionStatus is where a treatment action stands.
type RiskActionStatus string

// The statuses of a treatment action.
const (
	RiskActionPlanned    RiskActionStatus = "planned"
	RiskActionInProgress RiskActionStatus = "in_progress"
	RiskActionDone       RiskActionStatus = "done"
)

// RiskActionStatuses lists every action status.
var RiskActionStatuses = []RiskActionStatus{RiskActionPlanned, RiskActionInProgress, RiskActionDone}

// RiskAction is one step of a risk's treatment plan.
type RiskAction struct {
	ID        string           `json:"id"`
	RiskID    string           `json:"risk_id"`
	Title     string           `json:"title"`
	Owner     string           `json:"owner"`
	DueDate   *string          `json:"due_date"`
	Status    RiskActionStatus `json:"status"`
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
}

// RiskActionInput is a new treatment action or the full state of one.
type RiskActionInput struct {
	Title   string           `json:"title"`
	Owner   string           `json:"owner"`
	DueDate string           `json:"due_date"`
	Status  RiskActionStatus `json:"status"`
}

// RiskActionUpdate changes a treatment action; nil fields stay as they are.
type RiskActionUpdate struct {
	Title   *string           `json:"title"`
	Owner   *string           `json:"owner"`
	DueDate *string           `json:"due_date"`
	Status  *RiskActionStatus `json:"status"`
}

// Input returns the action as the input that would recreate it.
func (a RiskAction) Input() RiskActionInput {
	in := RiskActionInput{Title: a.Title, Owner: a.Owner, Status: a.Status}
	if a.DueDate != nil {
		in.DueDate = *a.DueDate
	}
	return in
}

// Apply returns in with the fields of u that are set.
func (u RiskActionUpdate) Apply(in RiskActionInput) RiskActionInput {
	arSetStr(&in.Title, u.Title)
	arSetStr(&in.Owner, u.Owner)
	arSetStr(&in.DueDate, u.DueDate)
	if u.Status != nil {
		in.Status = *u.Status
	}
	return in
}

// Normalize trims the input and reports every bad field.
func (in *RiskActionInput) Normalize() []FieldError {
	var errs []FieldError
	in.Title = strings.TrimSpace(in.Title)
	switch {
	case in.Title == "":
		errs = append(errs, FieldError{"title", "must not be empty"})
	case utf8.RuneCountInString(in.Title) > 500:
		errs = append(errs, FieldError{"title", "must be at most 500 characters"})
	}
	in.Owner = strings.TrimSpace(in.Owner)
	var err error
	if in.DueDate, err = ParseDateField("due_date", in.DueDate); err != nil {
		errs = append(errs, arFields(err)...)
	}
	in.Status = RiskActionStatus(strings.ToLower(strings.TrimSpace(string(in.Status))))
	if in.Status == "" {
		in.Status = RiskActionPlanned
	}
	if !slices.Contains(RiskActionStatuses, in.Status) {
		errs = append(errs, FieldError{"status", "must be one of " + arJoinEnum(RiskActionStatuses)})
	}
	return errs
}

// RiskExportColumns are the columns of an exported risk register.
var RiskExportColumns = []string{"ref", "title", "description", "assets", "threat", "vulnerability", "owner_email", "likelihood", "impact", "inherent_score",
	"treatment", "controls", "residual_likelihood", "residual_impact", "residual_score", "status", "next_review", "accepted_by", "accepted_at", "accepted_score"}

// RiskExportRows renders risks as table rows; person gives the email of a
// user id and asset the reference of an asset id.
func RiskExportRows(risks []Risk, person, asset func(id string) string) [][]string {
	out := make([][]string, len(risks))
	for i, r := range risks {
		assets := make([]string, len(r.Assets))
		for j, a := range r.Assets {
			assets[j] = asset(a)
		}
		var review, by, at, score string
		if r.NextReview != nil {
			review = *r.NextReview
		}
		if a := r.Acceptance; a != nil {
			by, at, score = person(a.AcceptedBy), a.AcceptedAt.UTC().Format(time.RFC3339), strconv.Itoa(a.ResidualScore)
		}
		out[i] = []string{r.Ref, r.Title, r.Description, strings.Join(assets, ";"), r.Threat, r.Vulnerability, person(r.Owner),
			arIntText(r.Likelihood), arIntText(r.Impact), arIntText(r.InherentScore), string(r.Treatment), strings.Join(r.Controls, ";"),
			arIntText(r.ResidualLikelihood), arIntText(r.ResidualImpact), arIntText(r.ResidualScore), string(r.Status), review, by, at, score}
	}
	return out
}

// Assess sets the computed fields of r under method m: the scores and
// whether the risk is above the acceptance threshold (judged on the
// residual score, or the inherent one while the residual risk is not
// assessed).
func (m RiskMethod) Assess(r *Risk) {
	r.InherentScore = RiskScore(r.Likelihood, r.Impact)
	r.ResidualScore = RiskScore(r.ResidualLikelihood, r.ResidualImpact)
	s := r.ResidualScore
	if s == nil {
		s = r.InherentScore
	}
	r.AboveThreshold = m.Above(s)
}

// RiskHeatMap counts risks per cell of the likelihood × impact matrix,
// before (inherent) and after (residual) treatment. Cell [l-1][i-1] holds
// the risks of likelihood l and impact i.
type RiskHeatMap struct {
	LikelihoodScale     []string `json:"likelihood_scale"`
	ImpactScale         []string `json:"impact_scale"`
	AcceptanceThreshold int      `json:"acceptance_threshold"`
	Inherent            [][]int  `json:"inherent"`
	Residual            [][]int  `json:"residual"`
	// Unassessed counts risks without an inherent assessment.
	Unassessed int `json:"unassessed"`
}

// NewRiskHeatMap returns an empty heat map for method m.
func NewRiskHeatMap(m RiskMethod) RiskHeatMap {
	grid := func() [][]int {
		g := make([][]int, len(m.LikelihoodScale))
		for i := range g {
			g[i] = make([]int, len(m.ImpactScale))
		}
		return g
	}
	return RiskHeatMap{LikelihoodScale: m.LikelihoodScale, ImpactScale: m.ImpactScale, AcceptanceThreshold: m.AcceptanceThreshold,
		Inherent: grid(), Residual: grid()}
}

// Add counts n risks at likelihood l and impact i of a grid, ignoring
// levels outside the scales.
func (h RiskHeatMap) Add(grid [][]int, l, i, n int) {
	if l >= 1 && l <= len(grid) && i >= 1 && i <= len(grid[l-1]) {
		grid[l-1][i-1] += n
	}
}
