package store

import (
	"context"
	"fmt"

	"github.com/vigilhq/vigil"
)

// CreateOrg creates an organisation; its creation is the first entry of its
// own trail chain.
func (s *Store) CreateOrg(ctx context.Context, name string) (vigil.Org, error) {
	name, err := vigil.NormalizeOrgName(name)
	if err != nil {
		return vigil.Org{}, err
	}
	var o vigil.Org
	err = s.update(ctx, func(tx *Tx) error {
		o = vigil.Org{ID: newID(), Name: name, CreatedAt: tx.now}
		if _, err := tx.exec(ctx, `INSERT INTO orgs (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)`, o.ID, o.Name, micros(o.CreatedAt), micros(o.CreatedAt)); err != nil {
			if vigil.ErrorCode(err) == vigil.EConflict {
				return vigil.Invalid("name", "an organisation named %q already exists", name)
			}
			return fmt.Errorf("insert org: %w", err)
		}
		return tx.trail(ctx, o.ID, "org.create", "org", o.ID, o)
	})
	return o, err
}

// ListOrgs lists every organisation (for administrators of the deployment).
func (s *Store) ListOrgs(ctx context.Context) ([]vigil.Org, error) {
	rows, err := s.query(ctx, `SELECT id, name, created_at FROM orgs ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	defer rows.Close()
	var out []vigil.Org
	for rows.Next() {
		var o vigil.Org
		var t int64
		if err := rows.Scan(&o.ID, &o.Name, &t); err != nil {
			return nil, err
		}
		o.CreatedAt = fromMicros(t)
		out = append(out, o)
	}
	return out, rows.Err()
}

// GetOrg returns one organisation by id.
func (s *Store) GetOrg(ctx context.Context, id string) (vigil.Org, error) {
	var o vigil.Org
	var t int64
	err := s.queryRow(ctx, `SELECT id, name, created_at FROM orgs WHERE id = ?`, id).Scan(&o.ID, &o.Name, &t)
	if err != nil {
		return o, notFound(err, "organisation %s", id)
	}
	o.CreatedAt = fromMicros(t)
	return o, nil
}

// ResolveOrg finds an organisation by id or exact name. An empty ref picks
// the only organisation when there is exactly one.
func (s *Store) ResolveOrg(ctx context.Context, ref string) (vigil.Org, error) {
	if ref == "" {
		orgs, err := s.ListOrgs(ctx)
		if err != nil {
			return vigil.Org{}, err
		}
		switch len(orgs) {
		case 1:
			return orgs[0], nil
		case 0:
			return vigil.Org{}, vigil.Errorf(vigil.ENotFound, "no organisation exists yet: create one with 'vigil org create --name NAME'")
		default:
			return vigil.Org{}, vigil.Invalid("org", "%d organisations exist: name one with --org", len(orgs))
		}
	}
	var o vigil.Org
	var t int64
	err := s.queryRow(ctx, `SELECT id, name, created_at FROM orgs WHERE id = ? OR name = ? ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END LIMIT 1`, ref, ref, ref).Scan(&o.ID, &o.Name, &t)
	if err != nil {
		return o, notFound(err, "organisation %q", ref)
	}
	o.CreatedAt = fromMicros(t)
	return o, nil
}

// CountOrgs returns how many organisations exist.
func (s *Store) CountOrgs(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM orgs`).Scan(&n)
	return n, err
}
