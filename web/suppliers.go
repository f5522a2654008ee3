package web

import (
	"net/http"
	"time"

	"github.com/vigilhq/vigil"
)

// supplierRoutes registers the suppliers endpoints (API and UI).
func (s *Server) supplierRoutes() {
	id := func(v vigil.Supplier) string { return v.ID }
	handleISMSCRUD(s, ismsCRUD[vigil.Supplier, vigil.SupplierInput, vigil.SupplierUpdate]{
		path: "/api/v1/suppliers", list: s.listSuppliers,
		create: s.store.CreateSupplier, get: s.store.GetSupplier, update: s.store.UpdateSupplier, delete: s.store.DeleteSupplier, id: id,
	})
	handleISMSUI(s, ismsUIRegister[vigil.Supplier, vigil.SupplierInput, vigil.SupplierUpdate]{
		base: "/suppliers", nav: "suppliers", title: "Suppliers", template: "suppliers",
		list: s.listSuppliers, get: s.store.GetSupplier, create: s.store.CreateSupplier, update: s.store.UpdateSupplier, delete: s.store.DeleteSupplier,
		id:      id,
		label:   func(v vigil.Supplier) string { return v.Ref + " " + v.Name },
		choices: map[string][]string{"criticality": ismsStrings(vigil.SupplierCriticalities)},
		blank:   vigil.SupplierInput{Criticality: vigil.SupplierMedium},
		input:   vigil.Supplier.Input,
		form: func(r *http.Request) (vigil.SupplierInput, vigil.SupplierUpdate) {
			in := vigil.SupplierInput{
				Name: r.PostFormValue("name"), Services: r.PostFormValue("services"), DataAccessed: r.PostFormValue("data_accessed"),
				Criticality:             vigil.SupplierCriticality(r.PostFormValue("criticality")),
				ContractSecurityClauses: vigil.ParseTextList(r.PostFormValue("contract_security_clauses")),
				Owner:                   r.PostFormValue("owner"), LastReview: r.PostFormValue("last_review"), NextReview: r.PostFormValue("next_review"),
			}
			return in, vigil.SupplierUpdate{
				Name: &in.Name, Services: &in.Services, DataAccessed: &in.DataAccessed, Criticality: &in.Criticality,
				ContractSecurityClauses: &in.ContractSecurityClauses, Owner: &in.Owner, LastReview: &in.LastReview, NextReview: &in.NextReview,
			}
		},
	})
}

// listSuppliers lists suppliers with the request's filter, for the API and
// the UI alike.
func (s *Server) listSuppliers(r *http.Request, orgID, after string, limit int) ([]vigil.Supplier, error) {
	f, err := s.supplierFilter(r)
	if err != nil {
		return nil, err
	}
	return s.store.ListSuppliers(r.Context(), orgID, f, after, limit)
}

// supplierOperations documents the suppliers API for the OpenAPI document.
var supplierOperations = ismsCRUDOperations("/api/v1/suppliers", "supplier", "Supplier", true,
	param{Name: "overdue", In: "query", Description: "true: only suppliers whose next review date has passed.", Type: "boolean"})

// supplierSchemas are the OpenAPI schemas the suppliers operations refer to.
func supplierSchemas() map[string]any {
	return ismsSchemas("Supplier", map[string]any{
		"name":                      map[string]any{"type": "string", "description": "Unique within the organisation, whatever the letter case."},
		"services":                  ismsText,
		"data_accessed":             map[string]any{"type": "string", "description": "The organisation's information the supplier can reach."},
		"criticality":               ismsEnum(vigil.SupplierCriticalities),
		"contract_security_clauses": ismsTextList,
		"owner":                     ismsPerson,
		"last_review":               ismsDate,
		"next_review":               map[string]any{"type": "string", "description": "A date, YYYY-MM-DD, after last_review; empty when not set."},
	}, []string{"name", "criticality"}, true)
}

// supplierFilter reads ?overdue=true|false.
func (s *Server) supplierFilter(r *http.Request) (vigil.SupplierFilter, error) {
	var f vigil.SupplierFilter
	switch r.URL.Query().Get("overdue") {
	case "", "false":
	case "true":
		f.OverdueOn = s.store.Now().UTC().Format(time.DateOnly)
	default:
		return f, vigil.Invalid("overdue", "must be true or false")
	}
	return f, nil
}
