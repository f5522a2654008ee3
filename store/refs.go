package store

import (
	"context"
	"fmt"

	"github.com/vigilhq/vigil"
)

// nextRef returns the next short human reference of a kind in an
// organisation ("AST" gives AST-1, AST-2, ...). Numbers are never reused,
// even after a delete, so a reference in an old report stays unambiguous.
func (tx *Tx) nextRef(ctx context.Context, orgID, kind string) (string, error) {
	if _, err := tx.exec(ctx, `INSERT INTO ref_counters (org_id, kind, last) VALUES (?, ?, 0) ON CONFLICT (org_id, kind) DO NOTHING`, orgID, kind); err != nil {
		return "", fmt.Errorf("reference counter: %w", err)
	}
	var n int64
	if err := tx.queryRow(ctx, `UPDATE ref_counters SET last = last + 1 WHERE org_id = ? AND kind = ? RETURNING last`, orgID, kind).Scan(&n); err != nil {
		return "", fmt.Errorf("next reference: %w", err)
	}
	return fmt.Sprintf("%s-%d", kind, n), nil
}

// resolvePerson turns a member's user id or email into the user id, or an
// EInvalid error naming field when it is not a member of the organisation.
// An empty ref resolves to "" (nobody).
func (tx *Tx) resolvePerson(ctx context.Context, orgID, field, ref string) (string, error) {
	if ref == "" {
		return "", nil
	}
	var id string
	err := tx.queryRow(ctx, `SELECT u.id FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND (u.id = ? OR u.email = ?)`,
		orgID, ref, vigil.NormalizeEmailLoose(ref)).Scan(&id)
	if err != nil {
		if notFound(err, "") != err {
			return "", vigil.Invalid(field, "%s is not a member of this organisation", ref)
		}
		return "", fmt.Errorf("resolve %s: %w", field, err)
	}
	return id, nil
}
