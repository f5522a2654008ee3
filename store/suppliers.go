package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigilhq/vigil"
)

// Suppliers (A.5.19–5.23).

var ismsSuppliers = ismsRegister[vigil.Supplier]{
	table: "suppliers", entity: "supplier", what: "supplier", byRef: true,
	columns: `id, ref, name, services, data_accessed, criticality, contract_security_clauses, owner, last_review, next_review, created_at, updated_at`,
	scan: func(sc interface{ Scan(...any) error }) (vigil.Supplier, error) {
		var v vigil.Supplier
		var crit, clauses string
		var created, updated int64
		if err := sc.Scan(&v.ID, &v.Ref, &v.Name, &v.Services, &v.DataAccessed, &crit, &clauses, &v.Owner, &v.LastReview, &v.NextReview, &created, &updated); err != nil {
			return v, err
		}
		v.Criticality = vigil.SupplierCriticality(crit)
		v.CreatedAt, v.UpdatedAt = fromMicros(created), fromMicros(updated)
		var err error
		v.ContractSecurityClauses, err = ismsDecodeList(clauses)
		return v, err
	},
	id: func(v vigil.Supplier) string { return v.ID },
}

// supplierNameKey is what makes two supplier names the same.
func supplierNameKey(name string) string { return strings.ToLower(name) }

// supplierNameTaken turns a unique violation on the name into an error
// that names the field.
func supplierNameTaken(err error, name string) error {
	if vigil.ErrorCode(err) == vigil.EConflict {
		return vigil.Invalid("name", "a supplier named %q already exists", name)
	}
	return err
}

// CreateSupplier adds a supplier (SUP-n); names are unique per
// organisation, whatever their letter case.
func (s *Store) CreateSupplier(ctx context.Context, orgID string, in vigil.SupplierInput) (vigil.Supplier, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.Supplier{}, err
	}
	var out vigil.Supplier
	err = s.update(ctx, func(tx *Tx) error {
		owner, err := tx.resolvePerson(ctx, orgID, "owner", in.Owner)
		if err != nil {
			return err
		}
		ref, err := tx.nextRef(ctx, orgID, "SUP")
		if err != nil {
			return err
		}
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO suppliers (id, org_id, ref, name, name_key, services, data_accessed, criticality, contract_security_clauses, owner, last_review, next_review, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, orgID, ref, in.Name, supplierNameKey(in.Name), in.Services, in.DataAccessed, string(in.Criticality), ismsList(in.ContractSecurityClauses),
			owner, in.LastReview, in.NextReview, micros(tx.now), micros(tx.now)); err != nil {
			return supplierNameTaken(fmt.Errorf("insert supplier: %w", err), in.Name)
		}
		out, err = ismsSuppliers.created(ctx, tx, orgID, id)
		return err
	})
	return out, err
}

// GetSupplier returns a supplier by id or ref.
func (s *Store) GetSupplier(ctx context.Context, orgID, idOrRef string) (vigil.Supplier, error) {
	return ismsSuppliers.get(ctx, s, orgID, idOrRef)
}

// ListSuppliers lists suppliers oldest first, after the id after.
func (s *Store) ListSuppliers(ctx context.Context, orgID string, f vigil.SupplierFilter, after string, limit int) ([]vigil.Supplier, error) {
	if f.OverdueOn != "" {
		return ismsSuppliers.list(ctx, s, orgID, after, limit, ` AND next_review <> '' AND next_review < ?`, f.OverdueOn)
	}
	return ismsSuppliers.list(ctx, s, orgID, after, limit, "")
}

// UpdateSupplier changes a supplier.
func (s *Store) UpdateSupplier(ctx context.Context, orgID, idOrRef string, upd vigil.SupplierUpdate) (vigil.Supplier, error) {
	var out vigil.Supplier
	err := s.update(ctx, func(tx *Tx) error {
		before, err := ismsSuppliers.get(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		in, err := upd.Apply(before.Input()).Normalize()
		if err != nil {
			return err
		}
		if in.Owner, err = ismsPerson(ctx, tx, orgID, "owner", in.Owner, before.Owner); err != nil {
			return err
		}
		if same, err := ismsUnchanged(before.Input(), in); same || err != nil {
			out = before
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE suppliers SET name = ?, name_key = ?, services = ?, data_accessed = ?, criticality = ?, contract_security_clauses = ?, owner = ?, last_review = ?, next_review = ?, updated_at = ?
			WHERE id = ? AND org_id = ?`,
			in.Name, supplierNameKey(in.Name), in.Services, in.DataAccessed, string(in.Criticality), ismsList(in.ContractSecurityClauses),
			in.Owner, in.LastReview, in.NextReview, micros(tx.now), before.ID, orgID); err != nil {
			return supplierNameTaken(fmt.Errorf("update supplier: %w", err), in.Name)
		}
		out, err = ismsSuppliers.updated(ctx, tx, orgID, before.ID, before)
		return err
	})
	return out, err
}

// DeleteSupplier removes a supplier.
func (s *Store) DeleteSupplier(ctx context.Context, orgID, idOrRef string) error {
	return ismsSuppliers.delete(ctx, s, orgID, idOrRef)
}
