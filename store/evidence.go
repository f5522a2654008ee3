package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/catalog"
)

// Link kinds of evidence_links.
const (
	linkRequirement = "requirement"
	linkRisk        = "risk"
	linkPolicy      = "policy"
)

// checkUpload refuses an empty or oversize file and returns its SHA-256
// (hex) and sniffed content type. The type comes from the bytes, never
// from what the client claimed, so a PNG named .pdf is served as a PNG.
func checkUpload(field string, data []byte) (sum, contentType string, err error) {
	if len(data) == 0 {
		return "", "", vigil.Invalid(field, "is empty")
	}
	if len(data) > vigil.MaxUploadBytes {
		return "", "", &vigil.Error{Code: vigil.ETooLarge, Message: fmt.Sprintf("%s: larger than %d bytes", field, vigil.MaxUploadBytes),
			Fields: []vigil.FieldError{{Field: field, Message: "too large"}}}
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:]), http.DetectContentType(data), nil
}

// putBlob stores data under its hash for the organisation, once: identical
// uploads share the row.
func (tx *Tx) putBlob(ctx context.Context, orgID, sum string, data []byte) error {
	if _, err := tx.exec(ctx, `INSERT INTO file_blobs (org_id, sha256, size, data, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (org_id, sha256) DO NOTHING`,
		orgID, sum, int64(len(data)), data, micros(tx.now)); err != nil {
		return fmt.Errorf("store file: %w", err)
	}
	return nil
}

// dropBlobIfUnused deletes a blob no evidence and no policy revision refers
// to any more.
func (tx *Tx) dropBlobIfUnused(ctx context.Context, orgID, sum string) error {
	if sum == "" {
		return nil
	}
	_, err := tx.exec(ctx, `DELETE FROM file_blobs WHERE org_id = ? AND sha256 = ?
		AND NOT EXISTS (SELECT 1 FROM evidence WHERE org_id = ? AND sha256 = ?)
		AND NOT EXISTS (SELECT 1 FROM policies WHERE org_id = ? AND file_sha256 = ?)
		AND NOT EXISTS (SELECT 1 FROM policy_versions WHERE org_id = ? AND file_sha256 = ?)`,
		orgID, sum, orgID, sum, orgID, sum, orgID, sum)
	if err != nil {
		return fmt.Errorf("drop unused file: %w", err)
	}
	return nil
}

// blob reads stored bytes and checks them against their hash, so a
// corrupted or altered row is never served as evidence.
func (s *Store) blob(ctx context.Context, orgID, sum string) ([]byte, error) {
	var data []byte
	if err := s.queryRow(ctx, `SELECT data FROM file_blobs WHERE org_id = ? AND sha256 = ?`, orgID, sum).Scan(&data); err != nil {
		return nil, notFound(err, "file %s", sum)
	}
	h := sha256.Sum256(data)
	if hex.EncodeToString(h[:]) != sum {
		return nil, fmt.Errorf("stored file %s does not match its hash", sum)
	}
	return data, nil
}

const evidenceColumns = `id, ref, title, description, collector_id, observed_from, observed_to, valid_until, sha256, size, content_type, filename, created_at, updated_at`

func scanEvidence(sc interface{ Scan(...any) error }, today string) (vigil.Evidence, error) {
	var e vigil.Evidence
	var created, updated int64
	err := sc.Scan(&e.ID, &e.Ref, &e.Title, &e.Description, &e.Collector, &e.ObservedFrom, &e.ObservedTo, &e.ValidUntil,
		&e.SHA256, &e.Size, &e.ContentType, &e.Filename, &created, &updated)
	e.CreatedAt, e.UpdatedAt = fromMicros(created), fromMicros(updated)
	e.Stale = vigil.IsStale(e.ValidUntil, today)
	e.Requirements, e.Risks, e.Policies = []string{}, []string{}, []string{}
	return e, err
}

// today is the calendar date of the store's clock, UTC.
func (s *Store) today() string { return vigil.DayOf(s.now()) }

// NormalizeRequirementRef turns "A.8.15" or " 8.15 " into "8.15".
func NormalizeRequirementRef(ref string) string {
	ref = strings.TrimSpace(ref)
	if len(ref) > 2 && (ref[0] == 'A' || ref[0] == 'a') && ref[1] == '.' {
		ref = ref[2:]
	}
	return ref
}

// resolveLinks checks the references of in against the catalogue and the
// organisation's records, and returns them as stored: requirement refs,
// risk ids and policy ids.
func (tx *Tx) resolveLinks(ctx context.Context, orgID string, in vigil.EvidenceInput) (reqs, risks, policies []string, err error) {
	fw := catalog.ISO27001v2022()
	reqs = []string{}
	for _, r := range in.Requirements {
		r = NormalizeRequirementRef(r)
		_, isControl := fw.Control(r)
		_, isClause := fw.Clause(r)
		if !isControl && !isClause {
			return nil, nil, nil, vigil.Invalid("requirements", "%q is neither a clause nor an Annex A control of ISO/IEC 27001:2022", r)
		}
		if !slices.Contains(reqs, r) {
			reqs = append(reqs, r)
		}
	}
	risks = []string{}
	for _, r := range in.Risks {
		id, err := tx.resolveRisk(ctx, orgID, r)
		if err != nil {
			return nil, nil, nil, err
		}
		if !slices.Contains(risks, id) {
			risks = append(risks, id)
		}
	}
	policies = []string{}
	for _, p := range in.Policies {
		id, err := tx.resolvePolicyID(ctx, orgID, "policies", p)
		if err != nil {
			return nil, nil, nil, err
		}
		if !slices.Contains(policies, id) {
			policies = append(policies, id)
		}
	}
	return reqs, risks, policies, nil
}

// resolveRisk turns a risk id or reference into its id. The risks table
// belongs to the risk register; only its id, org_id and ref are used.
func (tx *Tx) resolveRisk(ctx context.Context, orgID, ref string) (string, error) {
	var id string
	err := tx.queryRow(ctx, `SELECT id FROM risks WHERE org_id = ? AND (id = ? OR ref = ?)`, orgID, ref, strings.ToUpper(ref)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", vigil.Invalid("risks", "no risk %s in this organisation", ref)
	}
	if err != nil {
		return "", fmt.Errorf("resolve risk: %w", err)
	}
	return id, nil
}

// resolvePolicyID turns a policy id or reference into its id, or an error
// naming field.
func (tx *Tx) resolvePolicyID(ctx context.Context, orgID, field, ref string) (string, error) {
	var id string
	err := tx.queryRow(ctx, `SELECT id FROM policies WHERE org_id = ? AND (id = ? OR ref = ?)`, orgID, ref, strings.ToUpper(ref)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", vigil.Invalid(field, "no policy %s in this organisation", ref)
	}
	if err != nil {
		return "", fmt.Errorf("resolve policy: %w", err)
	}
	return id, nil
}

func (tx *Tx) writeLinks(ctx context.Context, orgID, evidenceID string, reqs, risks, policies []string) error {
	if _, err := tx.exec(ctx, `DELETE FROM evidence_links WHERE evidence_id = ?`, evidenceID); err != nil {
		return fmt.Errorf("clear evidence links: %w", err)
	}
	for kind, targets := range map[string][]string{linkRequirement: reqs, linkRisk: risks, linkPolicy: policies} {
		for _, t := range targets {
			if _, err := tx.exec(ctx, `INSERT INTO evidence_links (org_id, evidence_id, kind, target) VALUES (?, ?, ?, ?)`, orgID, evidenceID, kind, t); err != nil {
				return fmt.Errorf("link evidence: %w", err)
			}
		}
	}
	return nil
}

// CreateEvidence stores a file and its description. The file is kept once
// per organisation under its SHA-256; the content type is sniffed.
func (s *Store) CreateEvidence(ctx context.Context, orgID string, in vigil.EvidenceInput, data []byte) (vigil.Evidence, error) {
	in, err := in.Normalize()
	if err != nil {
		return vigil.Evidence{}, err
	}
	sum, ctype, err := checkUpload("file", data)
	if err != nil {
		return vigil.Evidence{}, err
	}
	var e vigil.Evidence
	err = s.update(ctx, func(tx *Tx) error {
		collector := in.Collector
		if collector == "" {
			collector = tx.actor.UserID
		}
		if collector == "" {
			return vigil.Invalid("collector", "must name the member who collected the evidence")
		}
		if collector, err = tx.resolvePerson(ctx, orgID, "collector", collector); err != nil {
			return err
		}
		reqs, risks, policies, err := tx.resolveLinks(ctx, orgID, in)
		if err != nil {
			return err
		}
		ref, err := tx.nextRef(ctx, orgID, "EVD")
		if err != nil {
			return err
		}
		if err := tx.putBlob(ctx, orgID, sum, data); err != nil {
			return err
		}
		id := newID()
		if _, err := tx.exec(ctx, `INSERT INTO evidence (id, org_id, ref, title, description, collector_id, observed_from, observed_to, valid_until,
			sha256, size, content_type, filename, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, orgID, ref, in.Title, in.Description, collector, in.ObservedFrom, in.ObservedTo, in.ValidUntil,
			sum, int64(len(data)), ctype, in.Filename, micros(tx.now), micros(tx.now)); err != nil {
			return fmt.Errorf("insert evidence: %w", err)
		}
		if err := tx.writeLinks(ctx, orgID, id, reqs, risks, policies); err != nil {
			return err
		}
		if e, err = tx.evidence(ctx, orgID, id); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "evidence.create", "evidence", id, e)
	})
	return e, err
}

// evidence reads one item with its links inside a transaction.
func (tx *Tx) evidence(ctx context.Context, orgID, idOrRef string) (vigil.Evidence, error) {
	e, err := scanEvidence(tx.queryRow(ctx, `SELECT `+evidenceColumns+` FROM evidence WHERE org_id = ? AND (id = ? OR ref = ?)`,
		orgID, idOrRef, strings.ToUpper(idOrRef)), vigil.DayOf(tx.now))
	if err != nil {
		return e, notFound(err, "evidence %s", idOrRef)
	}
	rows, err := tx.query(ctx, `SELECT evidence_id, kind, target FROM evidence_links WHERE evidence_id = ? ORDER BY kind, target`, e.ID)
	if err != nil {
		return e, fmt.Errorf("evidence links: %w", err)
	}
	defer rows.Close()
	list := []vigil.Evidence{e}
	if err := addLinks(rows, list); err != nil {
		return e, err
	}
	return list[0], nil
}

// addLinks distributes link rows (evidence_id, kind, target) over items.
func addLinks(rows *sql.Rows, items []vigil.Evidence) error {
	idx := map[string]int{}
	for i, e := range items {
		idx[e.ID] = i
	}
	for rows.Next() {
		var id, kind, target string
		if err := rows.Scan(&id, &kind, &target); err != nil {
			return fmt.Errorf("scan evidence link: %w", err)
		}
		i, ok := idx[id]
		if !ok {
			continue
		}
		switch kind {
		case linkRequirement:
			items[i].Requirements = append(items[i].Requirements, target)
		case linkRisk:
			items[i].Risks = append(items[i].Risks, target)
		case linkPolicy:
			items[i].Policies = append(items[i].Policies, target)
		}
	}
	for i := range items {
		slices.SortFunc(items[i].Requirements, catalog.CompareRefs)
	}
	return rows.Err()
}

// GetEvidence returns one item by id or reference (EVD-3).
func (s *Store) GetEvidence(ctx context.Context, orgID, idOrRef string) (vigil.Evidence, error) {
	list, err := s.listEvidence(ctx, orgID, `AND (e.id = ? OR e.ref = ?)`, []any{idOrRef, strings.ToUpper(idOrRef)}, 1)
	if err != nil {
		return vigil.Evidence{}, err
	}
	if len(list) == 0 {
		return vigil.Evidence{}, vigil.Errorf(vigil.ENotFound, "evidence %s not found", idOrRef)
	}
	return list[0], nil
}

// ListEvidence lists an organisation's evidence in the order it was
// uploaded, filtered by f.
func (s *Store) ListEvidence(ctx context.Context, orgID string, f vigil.EvidenceFilter) ([]vigil.Evidence, error) {
	var where strings.Builder
	args := []any{}
	where.WriteString(` AND e.id > ?`)
	args = append(args, f.After)
	link := func(kind, target string) {
		where.WriteString(` AND EXISTS (SELECT 1 FROM evidence_links l WHERE l.evidence_id = e.id AND l.kind = ? AND l.target = ?)`)
		args = append(args, kind, target)
	}
	if f.Requirement != "" {
		link(linkRequirement, NormalizeRequirementRef(f.Requirement))
	}
	if f.Risk != "" {
		link(linkRisk, f.Risk)
	}
	if f.Policy != "" {
		link(linkPolicy, f.Policy)
	}
	if f.Stale != nil {
		if *f.Stale {
			where.WriteString(` AND e.valid_until <> '' AND e.valid_until < ?`)
		} else {
			where.WriteString(` AND (e.valid_until = '' OR e.valid_until >= ?)`)
		}
		args = append(args, s.today())
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	return s.listEvidence(ctx, orgID, where.String(), args, limit)
}

func (s *Store) listEvidence(ctx context.Context, orgID, where string, args []any, limit int) ([]vigil.Evidence, error) {
	cols := "e." + strings.ReplaceAll(evidenceColumns, ", ", ", e.")
	rows, err := s.query(ctx, `SELECT `+cols+` FROM evidence e WHERE e.org_id = ? `+where+` ORDER BY e.id LIMIT ?`,
		append(append([]any{orgID}, args...), limit)...)
	if err != nil {
		return nil, fmt.Errorf("list evidence: %w", err)
	}
	today := s.today()
	var out []vigil.Evidence
	for rows.Next() {
		e, err := scanEvidence(rows, today)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan evidence: %w", err)
		}
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]any, len(out))
	for i, e := range out {
		ids[i] = e.ID
	}
	lrows, err := s.query(ctx, `SELECT evidence_id, kind, target FROM evidence_links WHERE org_id = ? AND evidence_id IN (`+placeholders(len(ids))+`) ORDER BY kind, target`,
		append([]any{orgID}, ids...)...)
	if err != nil {
		return nil, fmt.Errorf("evidence links: %w", err)
	}
	defer lrows.Close()
	return out, addLinks(lrows, out)
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// UpdateEvidence changes an item's description, dates and links.
func (s *Store) UpdateEvidence(ctx context.Context, orgID, id string, u vigil.EvidenceUpdate) (vigil.Evidence, error) {
	var after vigil.Evidence
	err := s.update(ctx, func(tx *Tx) error {
		before, err := tx.evidence(ctx, orgID, id)
		if err != nil {
			return err
		}
		in := u.Apply(before.Input())
		if u.Risks == nil {
			in.Risks = nil // already ids; only re-resolved when given
		}
		in, err = in.Normalize()
		if err != nil {
			return err
		}
		collector, err := tx.resolvePerson(ctx, orgID, "collector", in.Collector)
		if err != nil {
			return err
		}
		if collector == "" {
			return vigil.Invalid("collector", "must name the member who collected the evidence")
		}
		reqs, risks, policies, err := tx.resolveLinks(ctx, orgID, in)
		if err != nil {
			return err
		}
		if u.Risks == nil {
			risks = before.Risks
		}
		if _, err := tx.exec(ctx, `UPDATE evidence SET title = ?, description = ?, collector_id = ?, observed_from = ?, observed_to = ?, valid_until = ?, updated_at = ?
			WHERE org_id = ? AND id = ?`, in.Title, in.Description, collector, in.ObservedFrom, in.ObservedTo, in.ValidUntil, micros(tx.now), orgID, before.ID); err != nil {
			return fmt.Errorf("update evidence: %w", err)
		}
		if err := tx.writeLinks(ctx, orgID, before.ID, reqs, risks, policies); err != nil {
			return err
		}
		if after, err = tx.evidence(ctx, orgID, before.ID); err != nil {
			return err
		}
		orig := before.UpdatedAt
		before.UpdatedAt = after.UpdatedAt
		diff, err := vigil.Diff(before, after)
		if err != nil {
			return err
		}
		if len(diff) == 0 {
			after = before
			after.UpdatedAt = orig
			return errUnchangedRecord
		}
		return tx.trail(ctx, orgID, "evidence.update", "evidence", before.ID, diff)
	})
	if errors.Is(err, errUnchangedRecord) {
		err = nil
	}
	return after, err
}

// errUnchangedRecord rolls back an update that changed nothing, so that
// neither the record's updated_at nor the trail moves.
var errUnchangedRecord = errors.New("nothing changed")

// DeleteEvidence removes an item; its file goes too unless other evidence
// or a policy shares it.
func (s *Store) DeleteEvidence(ctx context.Context, orgID, id string) error {
	return s.update(ctx, func(tx *Tx) error {
		before, err := tx.evidence(ctx, orgID, id)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE training_assignments SET evidence_id = '' WHERE org_id = ? AND evidence_id = ?`, orgID, before.ID); err != nil {
			return fmt.Errorf("unlink training evidence: %w", err)
		}
		if _, err := tx.exec(ctx, `DELETE FROM evidence WHERE org_id = ? AND id = ?`, orgID, before.ID); err != nil {
			return fmt.Errorf("delete evidence: %w", err)
		}
		if err := tx.dropBlobIfUnused(ctx, orgID, before.SHA256); err != nil {
			return err
		}
		return tx.trail(ctx, orgID, "evidence.delete", "evidence", before.ID, map[string]any{"before": before})
	})
}

// EvidenceContent returns an item and its bytes, checked against the hash.
func (s *Store) EvidenceContent(ctx context.Context, orgID, id string) (vigil.Evidence, []byte, error) {
	e, err := s.GetEvidence(ctx, orgID, id)
	if err != nil {
		return e, nil, err
	}
	data, err := s.blob(ctx, orgID, e.SHA256)
	return e, data, err
}

// EvidenceCounts returns, per requirement ref (clause or control, e.g.
// "8.15"), how many evidence items linked to it are not stale.
func (s *Store) EvidenceCounts(ctx context.Context, orgID string) (map[string]int, error) {
	rows, err := s.query(ctx, `SELECT l.target, COUNT(*) FROM evidence_links l JOIN evidence e ON e.id = l.evidence_id
		WHERE l.org_id = ? AND l.kind = ? AND (e.valid_until = '' OR e.valid_until >= ?) GROUP BY l.target`, orgID, linkRequirement, s.today())
	if err != nil {
		return nil, fmt.Errorf("count evidence: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var ref string
		var n int
		if err := rows.Scan(&ref, &n); err != nil {
			return nil, fmt.Errorf("scan evidence count: %w", err)
		}
		out[ref] = n
	}
	return out, rows.Err()
}

// evidenceRefPattern matches what can only be meant as a reference to
// evidence: EVD-n or a record id.
var evidenceRefPattern = regexp.MustCompile(`(?i)^(EVD-\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)

// resolveEvidenceOrNote reads the "evidence" of a training completion: an
// evidence id or reference becomes a link (and must exist); anything else
// is kept as a note.
func (tx *Tx) resolveEvidenceOrNote(ctx context.Context, orgID, v string) (evidenceID, note string, err error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", "", nil
	}
	if !evidenceRefPattern.MatchString(v) {
		if len([]rune(v)) > 2000 {
			return "", "", vigil.Invalid("evidence", "a note must be at most 2000 characters")
		}
		return "", v, nil
	}
	err = tx.queryRow(ctx, `SELECT id FROM evidence WHERE org_id = ? AND (id = ? OR ref = ?)`, orgID, v, strings.ToUpper(v)).Scan(&evidenceID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", vigil.Invalid("evidence", "no evidence %s in this organisation", v)
	}
	if err != nil {
		return "", "", fmt.Errorf("resolve evidence: %w", err)
	}
	return evidenceID, "", nil
}

// EvidenceRiskRefs maps the organisation's risk ids to their references
// (RSK-n), for showing evidence links.
func (s *Store) EvidenceRiskRefs(ctx context.Context, orgID string) (map[string]string, error) {
	rows, err := s.query(ctx, `SELECT id, ref FROM risks WHERE org_id = ?`, orgID)
	if err != nil {
		return nil, fmt.Errorf("risk references: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, ref string
		if err := rows.Scan(&id, &ref); err != nil {
			return nil, err
		}
		out[id] = ref
	}
	return out, rows.Err()
}
