package web

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/vigilhq/vigil"
)

// ismsCRUD is the API of one ISMS register: a paginated list, create, read,
// partial update and delete, each within the caller's organisation. The
// registers differ only in their types and store calls, so one generic
// set of handlers serves them all.
type ismsCRUD[T, In, Upd any] struct {
	path   string // collection path, such as /api/v1/context-issues
	list   func(r *http.Request, orgID, after string, limit int) ([]T, error)
	create func(ctx context.Context, orgID string, in In) (T, error)
	get    func(ctx context.Context, orgID, id string) (T, error)
	update func(ctx context.Context, orgID, id string, upd Upd) (T, error)
	delete func(ctx context.Context, orgID, id string) error
	id     func(T) string
}

// handleISMSCRUD registers the five routes of a register: reads for
// ismsReaders, writes for ismsEditors. Its lists carry no total.
func handleISMSCRUD[T, In, Upd any](s *Server, c ismsCRUD[T, In, Upd]) {
	handleTotalCRUD(s, totalCRUD[T, In, Upd]{
		path: c.path, writers: ismsEditors,
		list: func(r *http.Request, orgID, after string, limit int) ([]T, int, error) {
			items, err := c.list(r, orgID, after, limit)
			return items, -1, err
		},
		create: c.create, get: c.get, update: c.update, delete: c.delete, id: c.id,
	})
}

// ismsListOf adapts a store listing that needs nothing from the request.
func ismsListOf[T any](list func(ctx context.Context, orgID, after string, limit int) ([]T, error)) func(*http.Request, string, string, int) ([]T, error) {
	return func(r *http.Request, orgID, after string, limit int) ([]T, error) {
		return list(r.Context(), orgID, after, limit)
	}
}

// ismsCRUDOperations documents the five routes of a register whose
// schemas are named schema, schema+"Input" and schema+"Update".
func ismsCRUDOperations(path, what, schema string, refs bool, listParams ...param) []operation {
	id := idParam
	if refs {
		id.Description = "Identifier, or the short reference (such as " + ismsRefExample[schema] + ")."
	}
	plural := what + "s"
	if strings.HasSuffix(what, "y") {
		plural = strings.TrimSuffix(what, "y") + "ies"
	}
	return []operation{
		{Method: "GET", Path: path, Summary: "The organisation's " + plural + ", oldest first.", Params: append(listParams, pageParams...), Status: 200, Response: schema, List: true},
		{Method: "POST", Path: path, Summary: "Add " + ismsArticle(what) + ".", Request: schema + "Input", Status: 201, Response: schema},
		{Method: "GET", Path: path + "/{id}", Summary: "One " + what + ".", Params: []param{id}, Status: 200, Response: schema},
		{Method: "PATCH", Path: path + "/{id}", Summary: "Change " + ismsArticle(what) + "; fields left out stay as they are.", Params: []param{id}, Request: schema + "Update", Status: 200, Response: schema},
		{Method: "DELETE", Path: path + "/{id}", Summary: "Remove " + ismsArticle(what) + ".", Params: []param{id}, Status: 204},
	}
}

var ismsRefExample = map[string]string{"ContextIssue": "CTX-3", "InterestedParty": "IP-2", "Objective": "OBJ-1", "Supplier": "SUP-4"}

// ismsArticle puts a or an before a noun.
func ismsArticle(what string) string {
	if strings.ContainsRune("aeiouAEIOU", rune(what[0])) {
		return "an " + what
	}
	return "a " + what
}

// ismsSchemas builds a register's three schemas: the record (every field
// required, plus id and times), its input (required fields as given) and
// its update (nothing required).
func ismsSchemas(name string, fields map[string]any, required []string, hasRef bool) map[string]any {
	record := map[string]any{"id": str(), "created_at": strFmt("date-time"), "updated_at": strFmt("date-time")}
	all := []string{"id"}
	if hasRef {
		record["ref"] = str()
		all = append(all, "ref")
	}
	for k, v := range fields {
		record[k] = v
		if _, ok := v.(ismsListSchema); ok {
			record[k] = map[string]any{"type": "array", "items": str()} // always returned as a list
		}
		all = append(all, k)
	}
	slices.Sort(all)
	return map[string]any{
		name:            obj(all, record),
		name + "Input":  obj(required, fields),
		name + "Update": obj(nil, fields),
	}
}

// ismsListSchema marks the schema of a vigil.TextList field, which takes a
// text or a list but is always returned as a list.
type ismsListSchema map[string]any

// Schema parts the registers share.
var (
	ismsText     = map[string]any{"type": "string"}
	ismsTextList = ismsListSchema{
		"description": "A list of texts; a single text is taken as one entry per line.",
		"oneOf":       []any{map[string]any{"type": "string"}, map[string]any{"type": "array", "items": map[string]any{"type": "string"}}},
	}
	ismsDate   = map[string]any{"type": "string", "description": "A date, YYYY-MM-DD; empty when not set."}
	ismsPerson = map[string]any{"type": "string", "description": "A member: user id, or email on input. Empty for nobody."}
)

// ismsEnum is the schema of a string enumeration.
func ismsEnum[T ~string](values []T) map[string]any {
	return map[string]any{"type": "string", "enum": ismsStrings(values)}
}

// ismsRegisterRoutes registers the API of the four registers of clauses
// 4.1, 4.2, 5.3 and 6.2.
func (s *Server) ismsRegisterRoutes() {
	handleISMSCRUD(s, ismsCRUD[vigil.ContextIssue, vigil.ContextIssueInput, vigil.ContextIssueUpdate]{
		path:   "/api/v1/context-issues",
		list:   ismsListOf(s.store.ListContextIssues),
		create: s.store.CreateContextIssue, get: s.store.GetContextIssue, update: s.store.UpdateContextIssue, delete: s.store.DeleteContextIssue,
		id: func(v vigil.ContextIssue) string { return v.ID },
	})
	handleISMSCRUD(s, ismsCRUD[vigil.InterestedParty, vigil.InterestedPartyInput, vigil.InterestedPartyUpdate]{
		path:   "/api/v1/interested-parties",
		list:   ismsListOf(s.store.ListInterestedParties),
		create: s.store.CreateInterestedParty, get: s.store.GetInterestedParty, update: s.store.UpdateInterestedParty, delete: s.store.DeleteInterestedParty,
		id: func(v vigil.InterestedParty) string { return v.ID },
	})
	handleISMSCRUD(s, ismsCRUD[vigil.ISMSRole, vigil.ISMSRoleInput, vigil.ISMSRoleUpdate]{
		path:   "/api/v1/isms-roles",
		list:   ismsListOf(s.store.ListISMSRoles),
		create: s.store.CreateISMSRole, get: s.store.GetISMSRole, update: s.store.UpdateISMSRole, delete: s.store.DeleteISMSRole,
		id: func(v vigil.ISMSRole) string { return v.ID },
	})
	handleISMSCRUD(s, ismsCRUD[vigil.Objective, vigil.ObjectiveInput, vigil.ObjectiveUpdate]{
		path:   "/api/v1/objectives",
		list:   ismsListOf(s.store.ListObjectives),
		create: s.store.CreateObjective, get: s.store.GetObjective, update: s.store.UpdateObjective, delete: s.store.DeleteObjective,
		id: func(v vigil.Objective) string { return v.ID },
	})
}

// ismsRegisterOperations documents the four registers.
func ismsRegisterOperations() []operation {
	var ops []operation
	ops = append(ops, ismsCRUDOperations("/api/v1/context-issues", "context issue", "ContextIssue", true)...)
	ops = append(ops, ismsCRUDOperations("/api/v1/interested-parties", "interested party", "InterestedParty", true)...)
	ops = append(ops, ismsCRUDOperations("/api/v1/isms-roles", "ISMS role", "ISMSRole", false)...)
	ops = append(ops, ismsCRUDOperations("/api/v1/objectives", "objective", "Objective", true)...)
	return ops
}

// ismsRegisterSchemas are the schemas of the four registers.
func ismsRegisterSchemas() map[string]any {
	out := map[string]any{}
	for _, m := range []map[string]any{
		ismsSchemas("ContextIssue", map[string]any{
			"title": ismsText, "description": ismsText, "kind": ismsEnum(vigil.ContextIssueKinds),
			"effect": map[string]any{"type": "string", "description": "How the issue affects what the ISMS can achieve."},
			"status": ismsEnum(vigil.ContextIssueStatuses),
		}, []string{"title", "kind"}, true),
		ismsSchemas("InterestedParty", map[string]any{
			"name": ismsText, "requirements": ismsTextList,
			"relevant": map[string]any{"type": "boolean", "description": "Whether its requirements are taken into the ISMS (default true)."},
		}, []string{"name"}, true),
		ismsSchemas("ISMSRole", map[string]any{
			"title": ismsText, "responsibilities": ismsText, "holder": ismsPerson,
		}, []string{"title"}, false),
		ismsSchemas("Objective", map[string]any{
			"title": ismsText, "measure": ismsText, "target": ismsText, "owner": ismsPerson, "due_date": ismsDate,
			"status": ismsEnum(vigil.ObjectiveStatuses), "current_value": ismsText,
		}, []string{"title"}, true),
	} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
