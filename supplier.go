package vigil

import (
	"slices"
	"strings"
	"time"
)

// SupplierCriticality says how much the organisation depends on a supplier,
// which sets how closely it is reviewed (A.5.19–5.22).
type SupplierCriticality string

// The criticality levels of a supplier, lowest first.
const (
	SupplierLow      SupplierCriticality = "low"
	SupplierMedium   SupplierCriticality = "medium"
	SupplierHigh     SupplierCriticality = "high"
	SupplierCritical SupplierCriticality = "critical"
)

// SupplierCriticalities lists the valid levels, lowest first.
var SupplierCriticalities = []SupplierCriticality{SupplierLow, SupplierMedium, SupplierHigh, SupplierCritical}

// Supplier is an organisation that provides services and may access the
// organisation's information (A.5.19–5.23), cited as SUP-n.
type Supplier struct {
	ID                      string              `json:"id"`
	Ref                     string              `json:"ref"`
	Name                    string              `json:"name"`
	Services                string              `json:"services"`
	DataAccessed            string              `json:"data_accessed"`
	Criticality             SupplierCriticality `json:"criticality"`
	ContractSecurityClauses TextList            `json:"contract_security_clauses"`
	Owner                   string              `json:"owner"`       // user id, "" when unassigned
	LastReview              string              `json:"last_review"` // YYYY-MM-DD or ""
	NextReview              string              `json:"next_review"` // YYYY-MM-DD or ""
	CreatedAt               time.Time           `json:"created_at"`
	UpdatedAt               time.Time           `json:"updated_at"`
}

// ReviewOverdue reports whether the next review date is before today
// (YYYY-MM-DD).
func (s Supplier) ReviewOverdue(today string) bool {
	return s.NextReview != "" && s.NextReview < today
}

// SupplierInput creates a supplier; Owner is a member's user id or email.
type SupplierInput struct {
	Name                    string              `json:"name"`
	Services                string              `json:"services"`
	DataAccessed            string              `json:"data_accessed"`
	Criticality             SupplierCriticality `json:"criticality"`
	ContractSecurityClauses TextList            `json:"contract_security_clauses"`
	Owner                   string              `json:"owner"`
	LastReview              string              `json:"last_review"`
	NextReview              string              `json:"next_review"`
}

// Normalize trims and checks a supplier. The next review must come after
// the last one: a review planned before the last one is a typing mistake.
func (in SupplierInput) Normalize() (SupplierInput, error) {
	var err error
	if in.Name, err = registerTitle("name", in.Name); err != nil {
		return in, err
	}
	if in.Services, err = registerText("services", in.Services, registerMaxText); err != nil {
		return in, err
	}
	if in.DataAccessed, err = registerText("data_accessed", in.DataAccessed, registerMaxText); err != nil {
		return in, err
	}
	if !slices.Contains(SupplierCriticalities, in.Criticality) {
		return in, Invalid("criticality", "must be low, medium, high or critical")
	}
	if in.ContractSecurityClauses, err = registerTextList("contract_security_clauses", in.ContractSecurityClauses); err != nil {
		return in, err
	}
	if in.LastReview, err = registerDate("last_review", in.LastReview); err != nil {
		return in, err
	}
	if in.NextReview, err = registerDate("next_review", in.NextReview); err != nil {
		return in, err
	}
	if in.LastReview != "" && in.NextReview != "" && in.NextReview <= in.LastReview {
		return in, Invalid("next_review", "must be after the last review (%s)", in.LastReview)
	}
	in.Owner = strings.TrimSpace(in.Owner)
	return in, nil
}

// Input returns the changeable fields of s.
func (s Supplier) Input() SupplierInput {
	return SupplierInput{
		Name: s.Name, Services: s.Services, DataAccessed: s.DataAccessed, Criticality: s.Criticality,
		ContractSecurityClauses: slices.Clone(s.ContractSecurityClauses), Owner: s.Owner, LastReview: s.LastReview, NextReview: s.NextReview,
	}
}

// SupplierUpdate changes a supplier; nil fields stay.
type SupplierUpdate struct {
	Name                    *string              `json:"name"`
	Services                *string              `json:"services"`
	DataAccessed            *string              `json:"data_accessed"`
	Criticality             *SupplierCriticality `json:"criticality"`
	ContractSecurityClauses *TextList            `json:"contract_security_clauses"`
	Owner                   *string              `json:"owner"`
	LastReview              *string              `json:"last_review"`
	NextReview              *string              `json:"next_review"`
}

// Apply returns in with the update's fields set.
func (u SupplierUpdate) Apply(in SupplierInput) SupplierInput {
	registerSet(&in.Name, u.Name)
	registerSet(&in.Services, u.Services)
	registerSet(&in.DataAccessed, u.DataAccessed)
	registerSet(&in.Criticality, u.Criticality)
	registerSet(&in.ContractSecurityClauses, u.ContractSecurityClauses)
	registerSet(&in.Owner, u.Owner)
	registerSet(&in.LastReview, u.LastReview)
	registerSet(&in.NextReview, u.NextReview)
	return in
}

// SupplierFilter narrows a supplier listing.
type SupplierFilter struct {
	// OverdueOn, a date (YYYY-MM-DD), keeps only suppliers whose next
	// review is before it; empty keeps all.
	OverdueOn string
}
