package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/export"
	"github.com/vigilhq/vigil/store"
)

// assetRoutes registers the assets endpoints (API and UI).
func (s *Server) assetRoutes() {
	s.handle("GET", "/api/v1/assets/export", API, ismsReaders, s.apiExportAssets)
	handleTotalCRUD(s, totalCRUD[vigil.Asset, vigil.AssetInput, vigil.AssetUpdate]{
		path: "/api/v1/assets", writers: ismsEditors,
		list: func(r *http.Request, orgID, after string, limit int) ([]vigil.Asset, int, error) {
			f, err := s.assetFilter(r, orgID)
			if err != nil {
				return nil, 0, err
			}
			f.After, f.Limit = after, limit
			return s.store.ListAssets(r.Context(), orgID, f)
		},
		create: s.store.CreateAsset, get: s.store.GetAsset, update: s.store.UpdateAsset, delete: s.store.DeleteAsset,
		id: func(a vigil.Asset) string { return a.ID },
	})
	s.assetUIRoutes()
}

// assetFilter reads the asset list filters: type and owner (a member's
// user id or email).
func (s *Server) assetFilter(r *http.Request, orgID string) (store.AssetFilter, error) {
	q := r.URL.Query()
	f := store.AssetFilter{Type: vigil.AssetType(q.Get("type"))}
	if f.Type != "" && !slices.Contains(vigil.AssetTypes, f.Type) {
		return f, vigil.Invalid("type", "must be one of %s", arEnumList(vigil.AssetTypes))
	}
	var err error
	f.Owner, err = s.arMemberFilter(r.Context(), orgID, "owner", q.Get("owner"))
	return f, err
}

// arMemberFilter turns a person named in a query (user id or email) into a
// user id; someone who is not a member is a bad parameter.
func (s *Server) arMemberFilter(ctx context.Context, orgID, param, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	// Ids are lower-case like emails, so one normalised lookup serves both.
	m, err := s.store.GetMember(ctx, orgID, vigil.NormalizeEmailLoose(v))
	if vigil.ErrorCode(err) == vigil.ENotFound {
		return "", vigil.Invalid(param, "%s is not a member of this organisation", v)
	}
	return m.ID, err
}

// assetOperations documents the assets API for the OpenAPI document.
var assetOperations = append(totalCRUDOperations("/api/v1/assets", "asset", "Asset", []param{
	{Name: "type", In: "query", Description: "Only assets of this type.", Type: "string"},
	{Name: "owner", In: "query", Description: "Only the assets of this owner (user id or email).", Type: "string"},
}), operation{Method: "GET", Path: "/api/v1/assets/export", Summary: "The asset register as a file.", Params: []param{
	{Name: "format", In: "query", Description: "csv (default) or xlsx.", Type: "string"},
}, Status: 200})

// assetSchemas are the OpenAPI schemas the assets operations refer to.
func assetSchemas() map[string]any {
	rating := map[string]any{"oneOf": []any{map[string]any{"type": "integer", "minimum": 1, "maximum": vigil.MaxRating}, map[string]any{"type": "null"}},
		"description": "1 low, 2 medium, 3 high; null while not rated."}
	fields := map[string]any{
		"name": str(), "type": arEnumSchema(vigil.AssetTypes), "owner": map[string]any{"type": "string", "description": "A member's user id (an email is accepted on input); empty for none."},
		"classification":  arEnumSchema(append([]vigil.Classification{""}, vigil.Classifications...)),
		"confidentiality": rating, "integrity": rating, "availability": rating, "location": str(), "description": str(),
	}
	out := totalCRUDSchemas("Asset", fields, []string{"name", "type"})
	update := out["AssetUpdate"].(map[string]any)
	update["description"] = "Fields to change; a rating of 0 clears it."
	return out
}

func (s *Server) apiExportAssets(w http.ResponseWriter, r *http.Request) {
	f, err := arExportFormat(r, export.CSV, export.XLSX)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	t, err := s.assetTable(r.Context(), actorOf(r).OrgID)
	if err == nil {
		err = arSendExport(w, f, t, nil, "assets")
	}
	if err != nil {
		s.apiError(w, r, err)
	}
}

// assetTable is the asset register as an export table.
func (s *Server) assetTable(ctx context.Context, orgID string) (export.Table, error) {
	assets, _, err := s.store.ListAssets(ctx, orgID, store.AssetFilter{})
	if err != nil {
		return export.Table{}, err
	}
	emails, err := s.store.MemberEmails(ctx, orgID)
	if err != nil {
		return export.Table{}, err
	}
	return export.Table{Title: "Asset register", Columns: vigil.AssetExportColumns, Rows: vigil.AssetExportRows(assets, arPersonOr(emails))}, nil
}

// arPersonOr names a user id by the map, or by the id itself for someone
// who is no longer a member.
func arPersonOr(names map[string]string) func(string) string {
	return func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	}
}

// arExportFormat reads the format query parameter (the first allowed format
// when absent).
func arExportFormat(r *http.Request, allowed ...export.Format) (export.Format, error) {
	v := r.URL.Query().Get("format")
	if v == "" {
		return allowed[0], nil
	}
	f, err := export.ParseFormat(v, allowed...)
	if err != nil {
		return f, vigil.Invalid("format", "%s", err.Error())
	}
	return f, nil
}

// arSendExport sends t as a download named name-YYYY-MM-DD.ext. The file is
// built in memory first, so a failure is still an error response, not a
// truncated download.
func arSendExport(w http.ResponseWriter, f export.Format, t export.Table, cover []string, name string) error {
	var buf bytes.Buffer
	if err := export.Write(&buf, f, t, cover); err != nil {
		return fmt.Errorf("export %s: %w", name, err)
	}
	w.Header().Set("Content-Type", f.ContentType())
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.%s"`, name, time.Now().UTC().Format(time.DateOnly), f))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes()) // a failed write means the client went away
	return nil
}

// ---- A register API with totals ----

// totalList is a list page with the number of items over all pages, for
// registers that count them (Total is absent for those that do not).
type totalList[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
	Total      *int    `json:"total,omitempty"`
}

// newTotalList builds a page; a negative total means "not counted".
func newTotalList[T any](items []T, limit, total int, key func(T) string) totalList[T] {
	l := newList(items, limit, key)
	tl := totalList[T]{Items: l.Items, NextCursor: l.NextCursor}
	if total >= 0 {
		tl.Total = &total
	}
	return tl
}

// totalCRUD is the API of a register whose lists carry a total (assets,
// risks, own controls): list, create, read, partial update and delete.
// Records are found by id or short reference.
type totalCRUD[T, In, Upd any] struct {
	path    string
	writers []vigil.Role
	list    func(r *http.Request, orgID, after string, limit int) ([]T, int, error)
	create  func(ctx context.Context, orgID string, in In) (T, error)
	get     func(ctx context.Context, orgID, id string) (T, error)
	update  func(ctx context.Context, orgID, id string, upd Upd) (T, error)
	delete  func(ctx context.Context, orgID, id string) error
	id      func(T) string
}

// handleTotalCRUD registers the five routes of a register: reads for
// ismsReaders, writes for c.writers.
func handleTotalCRUD[T, In, Upd any](s *Server, c totalCRUD[T, In, Upd]) {
	s.handle("GET", c.path, API, ismsReaders, func(w http.ResponseWriter, r *http.Request) {
		p, err := parsePage(r)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		items, total, err := c.list(r, actorOf(r).OrgID, p.Cursor, p.Limit+1)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, newTotalList(items, p.Limit, total, c.id))
	})
	s.handle("POST", c.path, API, c.writers, func(w http.ResponseWriter, r *http.Request) {
		var in In
		if err := decodeJSON(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		v, err := c.create(r.Context(), actorOf(r).OrgID, in)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		w.Header().Set("Location", c.path+"/"+c.id(v))
		writeJSON(w, http.StatusCreated, v)
	})
	s.handle("GET", c.path+"/{id}", API, ismsReaders, func(w http.ResponseWriter, r *http.Request) {
		v, err := c.get(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
	s.handle("PATCH", c.path+"/{id}", API, c.writers, func(w http.ResponseWriter, r *http.Request) {
		var upd Upd
		if err := decodeJSON(w, r, &upd); err != nil {
			s.apiError(w, r, err)
			return
		}
		v, err := c.update(r.Context(), actorOf(r).OrgID, r.PathValue("id"), upd)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
	s.handle("DELETE", c.path+"/{id}", API, c.writers, func(w http.ResponseWriter, r *http.Request) {
		if err := c.delete(r.Context(), actorOf(r).OrgID, r.PathValue("id")); err != nil {
			s.apiError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// totalCRUDOperations documents the five routes of a register whose
// schemas are named schema, schema+"Input", schema+"Update" and
// schema+"List".
func totalCRUDOperations(path, what, schema string, listParams []param) []operation {
	byID := param{Name: "id", In: "path", Description: "The " + what + "'s id or short reference.", Type: "string", Required: true}
	return []operation{
		{Method: "GET", Path: path, Summary: "The " + what + " register, oldest first, with the total count.", Params: append(append([]param{}, listParams...), pageParams...), Status: 200, Response: schema + "List"},
		{Method: "POST", Path: path, Summary: "Add a " + what + ".", Request: schema + "Input", Status: 201, Response: schema},
		{Method: "GET", Path: path + "/{id}", Summary: "One " + what + ".", Params: []param{byID}, Status: 200, Response: schema},
		{Method: "PATCH", Path: path + "/{id}", Summary: "Change a " + what + "; fields left out stay as they are.", Params: []param{byID}, Request: schema + "Update", Status: 200, Response: schema},
		{Method: "DELETE", Path: path + "/{id}", Summary: "Delete a " + what + ".", Params: []param{byID}, Status: 204},
	}
}

// totalCRUDSchemas returns the record, input, update and list schemas of
// a register with a short reference.
func totalCRUDSchemas(name string, fields map[string]any, required []string) map[string]any {
	record := map[string]any{"id": str(), "ref": str(), "created_at": strFmt("date-time"), "updated_at": strFmt("date-time")}
	for k, v := range fields {
		record[k] = v
	}
	var all []string
	for k := range record {
		all = append(all, k)
	}
	return map[string]any{
		name:            obj(all, record),
		name + "Input":  obj(required, fields),
		name + "Update": obj(nil, fields),
		name + "List":   arListSchema(name),
	}
}

// arListSchema is a list page with the total count.
func arListSchema(item string) map[string]any {
	return obj([]string{"items", "next_cursor", "total"}, map[string]any{
		"items": map[string]any{"type": "array", "items": ref(item)}, "next_cursor": nullable(str()),
		"total": map[string]any{"type": "integer", "description": "Items over all pages."},
	})
}

func arEnumSchema[T ~string](values []T) map[string]any {
	return map[string]any{"type": "string", "enum": values}
}

func arEnumList[T ~string](values []T) string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return strings.Join(out, ", ")
}
