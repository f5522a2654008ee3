package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/vigilhq/vigil"
)

// arReader is what both the read pool and a write transaction offer, so
// a lookup serves reads and the checks inside a change alike.
type arReader interface {
	query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	queryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// arOptInt decodes a stored level, rating or score: 0 is "not set".
func arOptInt(v int) *int {
	if v == 0 {
		return nil
	}
	return &v
}

// arInt encodes an optional level, rating or score.
func arInt(v *int) int {
	if v == nil {
		return 0
	}
	return *v
}

// arOptDate decodes a stored date: "" is "not set".
func arOptDate(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// arRef normalises a short reference ("ast-3" is "AST-3"), or returns ""
// when s is not one of kind.
func arRef(kind, s string) string {
	if n := vigil.ParseRefNumber(kind, s); n > 0 {
		return kind + "-" + strconv.Itoa(n)
	}
	return ""
}

// arPlaceholders returns "?, ?, ?" for n values.
func arPlaceholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// MemberEmails maps the user id of every member of an organisation to
// their email, for exports and pages that show people.
func (s *Store) MemberEmails(ctx context.Context, orgID string) (map[string]string, error) {
	rows, err := s.query(ctx, `SELECT u.id, u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ?`, orgID)
	if err != nil {
		return nil, fmt.Errorf("member emails: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, email string
		if err := rows.Scan(&id, &email); err != nil {
			return nil, err
		}
		out[id] = email
	}
	return out, rows.Err()
}

// AssetFilter narrows an asset listing.
type AssetFilter struct {
	Type  vigil.AssetType // "" = every type
	Owner string          // a user id; "" = anyone's
	After string          // id cursor: only assets created after this one
	// Limit bounds the page; 0 lists every asset (exports).
	Limit int
}

const assetColumns = `id, ref, name, type, owner_id, classification, confidentiality, integrity, availability, location, description, created_at, updated_at`

func scanAsset(sc interface{ Scan(...any) error }) (vigil.Asset, error) {
	var a vigil.Asset
	var typ, class string
	var c, i, av int
	var created, updated int64
	if err := sc.Scan(&a.ID, &a.Ref, &a.Name, &typ, &a.Owner, &class, &c, &i, &av, &a.Location, &a.Description, &created, &updated); err != nil {
		return a, err
	}
	a.Type, a.Classification = vigil.AssetType(typ), vigil.Classification(class)
	a.Confidentiality, a.Integrity, a.Availability = arOptInt(c), arOptInt(i), arOptInt(av)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return a, nil
}

// ListAssets lists an organisation's assets in the order they were created,
// with the number of assets the filter matches over all pages.
func (s *Store) ListAssets(ctx context.Context, orgID string, f AssetFilter) ([]vigil.Asset, int, error) {
	where := ` WHERE org_id = ?`
	args := []any{orgID}
	if f.Type != "" {
		where += ` AND type = ?`
		args = append(args, string(f.Type))
	}
	if f.Owner != "" {
		where += ` AND owner_id = ?`
		args = append(args, f.Owner)
	}
	var total int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM assets`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count assets: %w", err)
	}
	q := `SELECT ` + assetColumns + ` FROM assets` + where + ` AND id > ? ORDER BY id`
	args = append(args, f.After)
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list assets: %w", err)
	}
	defer rows.Close()
	out := []vigil.Asset{}
	for rows.Next() {
		a, err := scanAsset(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("scan asset: %w", err)
		}
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// arKeyColumn tells which column a record's key names: its reference
// when it reads as one of kind (AST-3), else its id. One indexed lookup
// each, where "id = ? OR ref = ?" would scan the organisation's rows.
func arKeyColumn(kind, key string) (column, value string) {
	if ref := arRef(kind, key); ref != "" {
		return "ref", ref
	}
	return "id", key
}

// getAsset finds an asset by id or reference (AST-3).
func getAsset(ctx context.Context, r arReader, orgID, idOrRef string) (vigil.Asset, error) {
	col, key := arKeyColumn("AST", idOrRef)
	a, err := scanAsset(r.queryRow(ctx, `SELECT `+assetColumns+` FROM assets WHERE org_id = ? AND `+col+` = ?`, orgID, key))
	return a, notFound(err, "asset %s", idOrRef)
}

// GetAsset returns an asset by id or reference (AST-3).
func (s *Store) GetAsset(ctx context.Context, orgID, idOrRef string) (vigil.Asset, error) {
	return getAsset(ctx, s, orgID, idOrRef)
}

// checkAsset normalises an asset and resolves its owner, reporting every
// bad field at once.
func (tx *Tx) checkAsset(ctx context.Context, orgID, selfID string, in *vigil.AssetInput) error {
	errs := in.Normalize()
	if in.Owner != "" {
		id, err := tx.resolvePerson(ctx, orgID, "owner", in.Owner)
		switch {
		case vigil.ErrorCode(err) == vigil.EInvalid:
			errs = append(errs, vigil.FieldError{Field: "owner", Message: in.Owner + " is not a member of this organisation"})
		case err != nil:
			return err
		}
		in.Owner = id
	}
	if in.Name != "" {
		var other string
		err := tx.queryRow(ctx, `SELECT id FROM assets WHERE org_id = ? AND name_key = ?`, orgID, strings.ToLower(in.Name)).Scan(&other)
		switch {
		case err == nil && other != selfID:
			errs = append(errs, vigil.FieldError{Field: "name", Message: fmt.Sprintf("an asset named %q already exists", in.Name)})
		case err != nil && notFound(err, "") == err:
			return fmt.Errorf("check asset name: %w", err)
		}
	}
	return vigil.InvalidFields(errs)
}

// insertAsset writes a checked asset and its trail entry.
func (tx *Tx) insertAsset(ctx context.Context, orgID string, in vigil.AssetInput) (vigil.Asset, error) {
	ref, err := tx.nextRef(ctx, orgID, "AST")
	if err != nil {
		return vigil.Asset{}, err
	}
	a := vigil.Asset{ID: newID(), Ref: ref, Name: in.Name, Type: in.Type, Owner: in.Owner, Classification: in.Classification,
		Confidentiality: in.Confidentiality, Integrity: in.Integrity, Availability: in.Availability,
		Location: in.Location, Description: in.Description, CreatedAt: tx.now, UpdatedAt: tx.now}
	if _, err := tx.exec(ctx, `INSERT INTO assets (`+assetColumns+`, org_id, name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Ref, a.Name, string(a.Type), a.Owner, string(a.Classification), arInt(a.Confidentiality), arInt(a.Integrity), arInt(a.Availability),
		a.Location, a.Description, micros(a.CreatedAt), micros(a.UpdatedAt), orgID, strings.ToLower(a.Name)); err != nil {
		if vigil.ErrorCode(err) == vigil.EConflict {
			return a, vigil.Invalid("name", "an asset named %q already exists", a.Name)
		}
		return a, fmt.Errorf("insert asset: %w", err)
	}
	return a, tx.trail(ctx, orgID, "asset.create", "asset", a.ID, a)
}

// CreateAsset adds an asset to the register.
func (s *Store) CreateAsset(ctx context.Context, orgID string, in vigil.AssetInput) (vigil.Asset, error) {
	var a vigil.Asset
	err := s.update(ctx, func(tx *Tx) error {
		if err := tx.checkAsset(ctx, orgID, "", &in); err != nil {
			return err
		}
		var err error
		a, err = tx.insertAsset(ctx, orgID, in)
		return err
	})
	return a, err
}

// UpdateAsset changes an asset, found by id or reference.
func (s *Store) UpdateAsset(ctx context.Context, orgID, idOrRef string, upd vigil.AssetUpdate) (vigil.Asset, error) {
	var after vigil.Asset
	err := s.update(ctx, func(tx *Tx) error {
		before, err := getAsset(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		in := upd.Apply(before.Input())
		if err := tx.checkAsset(ctx, orgID, before.ID, &in); err != nil {
			return err
		}
		after = before
		after.Name, after.Type, after.Owner, after.Classification = in.Name, in.Type, in.Owner, in.Classification
		after.Confidentiality, after.Integrity, after.Availability = in.Confidentiality, in.Integrity, in.Availability
		after.Location, after.Description = in.Location, in.Description
		diff, err := vigil.Diff(before, after)
		if err != nil {
			return err
		}
		delete(diff, "updated_at")
		if len(diff) == 0 {
			return nil // nothing changed, nothing to record
		}
		after.UpdatedAt = tx.now
		if _, err := tx.exec(ctx, `UPDATE assets SET name = ?, name_key = ?, type = ?, owner_id = ?, classification = ?, confidentiality = ?, integrity = ?,
			availability = ?, location = ?, description = ?, updated_at = ? WHERE id = ? AND org_id = ?`,
			after.Name, strings.ToLower(after.Name), string(after.Type), after.Owner, string(after.Classification), arInt(after.Confidentiality),
			arInt(after.Integrity), arInt(after.Availability), after.Location, after.Description, micros(after.UpdatedAt), after.ID, orgID); err != nil {
			if vigil.ErrorCode(err) == vigil.EConflict {
				return vigil.Invalid("name", "an asset named %q already exists", after.Name)
			}
			return fmt.Errorf("update asset: %w", err)
		}
		return tx.trail(ctx, orgID, "asset.update", "asset", after.ID, diff)
	})
	return after, err
}

// DeleteAsset removes an asset that no risk refers to; otherwise it is a
// conflict naming the risks.
func (s *Store) DeleteAsset(ctx context.Context, orgID, idOrRef string) error {
	return s.update(ctx, func(tx *Tx) error {
		before, err := getAsset(ctx, tx, orgID, idOrRef)
		if err != nil {
			return err
		}
		refs, err := tx.riskRefs(ctx, `SELECT r.ref FROM risk_assets ra JOIN risks r ON r.id = ra.risk_id WHERE ra.org_id = ? AND ra.asset_id = ?`, orgID, before.ID)
		if err != nil {
			return err
		}
		if len(refs) > 0 {
			return &vigil.Error{Code: vigil.EConflict, Conflicts: refs,
				Message: fmt.Sprintf("%s is linked to %s: remove it from those risks first", before.Ref, strings.Join(refs, ", "))}
		}
		if _, err := tx.exec(ctx, `DELETE FROM assets WHERE id = ? AND org_id = ?`, before.ID, orgID); err != nil {
			return fmt.Errorf("delete asset: %w", err)
		}
		return tx.trail(ctx, orgID, "asset.delete", "asset", before.ID, map[string]any{"before": before})
	})
}

// ImportAssets adds every row of an import file in one transaction, or
// none: it returns a *vigil.ImportError listing every problem of the file
// (fileProblems and those of the rows, including owners who are not
// members and names already taken).
func (s *Store) ImportAssets(ctx context.Context, orgID string, rows []vigil.AssetRow, fileProblems []vigil.RowProblem) (int, error) {
	err := s.update(ctx, func(tx *Tx) error {
		problems := append([]vigil.RowProblem{}, fileProblems...)
		taken, err := tx.assetNames(ctx, orgID)
		if err != nil {
			return err
		}
		people := map[string]string{}
		for i := range rows {
			row := &rows[i]
			problems = append(problems, row.Problems...)
			in := &row.Input
			if in.Owner != "" {
				key := vigil.NormalizeEmailLoose(in.Owner)
				id, ok := people[key]
				if !ok {
					id, err = tx.resolvePerson(ctx, orgID, "owner_email", in.Owner)
					if err != nil && vigil.ErrorCode(err) != vigil.EInvalid {
						return err
					}
					people[key] = id
				}
				if id == "" {
					problems = append(problems, vigil.RowProblem{Line: row.Line, Column: "owner_email", Message: in.Owner + " is not a member of this organisation"})
				}
				in.Owner = id
			}
			if in.Name != "" {
				key := strings.ToLower(in.Name)
				if line, dup := taken[key]; dup {
					msg := "an asset with this name already exists"
					if line > 0 {
						msg = fmt.Sprintf("the same name is on line %d", line)
					}
					problems = append(problems, vigil.RowProblem{Line: row.Line, Column: "name", Message: msg})
				} else {
					taken[key] = row.Line
				}
			}
		}
		if len(problems) > 0 {
			vigil.SortProblems(problems, vigil.AssetImportHeader)
			return &vigil.ImportError{Problems: problems}
		}
		if len(rows) == 0 {
			return &vigil.ImportError{Problems: []vigil.RowProblem{{Line: 2, Message: "the file holds no assets"}}}
		}
		for _, row := range rows {
			if _, err := tx.insertAsset(ctx, orgID, row.Input); err != nil {
				return fmt.Errorf("line %d: %w", row.Line, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(rows), nil
}

// assetNames maps the lower-cased name of every asset of an organisation
// to 0 (taken before the import).
func (tx *Tx) assetNames(ctx context.Context, orgID string) (map[string]int, error) {
	rows, err := tx.query(ctx, `SELECT name_key FROM assets WHERE org_id = ?`, orgID)
	if err != nil {
		return nil, fmt.Errorf("asset names: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out[k] = 0
	}
	return out, rows.Err()
}

// riskRefs runs a query returning risk references and sorts them by number.
func (tx *Tx) riskRefs(ctx context.Context, query string, args ...any) ([]string, error) {
	return arRefs(ctx, tx, query, args...)
}

func arRefs(ctx context.Context, r arReader, query string, args ...any) ([]string, error) {
	rows, err := r.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list references: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			return nil, err
		}
		out = append(out, ref)
	}
	sortShortRefs(out)
	return out, rows.Err()
}

// AssetsWithoutOwner counts the assets that have no owner and names the
// first limit of them, by number.
func (s *Store) AssetsWithoutOwner(ctx context.Context, orgID string, limit int) (int, []string, error) {
	return countRefs(ctx, s, `FROM assets a WHERE a.org_id = ? AND a.owner_id = ''`, limit, orgID)
}

// AssetsWithoutAssessedRisk counts the assets that no assessed risk with an
// owner covers (a risk is assessed once its likelihood and impact are set)
// and names the first limit of them.
func (s *Store) AssetsWithoutAssessedRisk(ctx context.Context, orgID string, limit int) (int, []string, error) {
	// NOT IN over an uncorrelated subquery: both databases build the set of
	// covered assets once instead of probing the links per asset. The set
	// starts from the assessed, owned risks (index risks_org_assessed) and
	// follows the links by the primary key of risk_assets, so neither the
	// wide risk rows nor the link rows are read.
	return countRefs(ctx, s, `FROM assets a WHERE a.org_id = ? AND a.id NOT IN (
		SELECT ra.asset_id FROM risks r JOIN risk_assets ra ON ra.risk_id = r.id
		WHERE r.org_id = ? AND r.owner_id <> '' AND r.inherent_score > 0)`, limit, orgID, orgID)
}

// countRefs counts the rows of "FROM … WHERE …" (over table alias a) and
// lists the references of the first limit in creation order, which is the
// order of their numbers. One query does both (a window count), so the
// filter, which may be costly, is evaluated once.
func countRefs(ctx context.Context, s *Store, from string, limit int, args ...any) (int, []string, error) {
	if limit <= 0 {
		var n int
		if err := s.queryRow(ctx, `SELECT COUNT(*) `+from, args...).Scan(&n); err != nil {
			return 0, nil, fmt.Errorf("count references: %w", err)
		}
		return n, nil, nil
	}
	rows, err := s.query(ctx, `SELECT a.ref, COUNT(*) OVER () `+from+` ORDER BY a.id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return 0, nil, fmt.Errorf("count references: %w", err)
	}
	defer rows.Close()
	var n int
	var refs []string
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref, &n); err != nil {
			return 0, nil, fmt.Errorf("count references: %w", err)
		}
		refs = append(refs, ref)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("count references: %w", err)
	}
	if n == 0 {
		return 0, nil, nil
	}
	sortShortRefs(refs)
	return n, refs, nil
}

// AssetRefs maps asset ids to their references: the given ids, or every
// asset of the organisation when ids is nil (exports).
func (s *Store) AssetRefs(ctx context.Context, orgID string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if ids != nil && len(ids) == 0 {
		return out, nil
	}
	q := `SELECT id, ref FROM assets WHERE org_id = ?`
	args := []any{orgID}
	if ids != nil {
		q += ` AND id IN (` + arPlaceholders(len(ids)) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("asset refs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, ref string
		if err := rows.Scan(&id, &ref); err != nil {
			return nil, err
		}
		out[id] = ref
	}
	return out, rows.Err()
}
