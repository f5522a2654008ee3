package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/vigilhq/vigil"
)

// operation documents one API endpoint. The route table in routes.go and
// this list are kept apart on purpose: a test proves that each one covers
// the other, so an undocumented route (or a documented one that is not
// served) fails the build.
type operation struct {
	Method, Path, Summary string
	Params                []param
	Request               string // schema name of the JSON body, if any
	Status                int    // success status
	Response              string // schema name; "" for no body
	List                  bool   // the response is List of Response
}

type param struct {
	Name, In, Description, Type string
	Required                    bool
}

var (
	pageParams = []param{
		{Name: "limit", In: "query", Description: "Items per page, 1 to 200 (default 50).", Type: "integer"},
		{Name: "cursor", In: "query", Description: "The next_cursor of the previous page.", Type: "string"},
	}
	idParam = param{Name: "id", In: "path", Description: "Identifier.", Type: "string", Required: true}
)

var operations = []operation{
	{Method: "GET", Path: "/healthz", Summary: "The server is alive.", Status: 200, Response: "Status"},
	{Method: "GET", Path: "/readyz", Summary: "The server can reach its database.", Status: 200, Response: "Status"},
	{Method: "GET", Path: "/metrics", Summary: "Prometheus metrics (text exposition format).", Status: 200},
	{Method: "GET", Path: "/api/v1/openapi.json", Summary: "This document.", Status: 200},
	{Method: "GET", Path: "/api/v1/me", Summary: "The caller.", Status: 200, Response: "Me"},
	{Method: "GET", Path: "/api/v1/orgs", Summary: "Organisations the caller belongs to.", Status: 200, Response: "Org", List: true},
	{Method: "GET", Path: "/api/v1/users", Summary: "Members of the organisation.", Params: pageParams, Status: 200, Response: "Member", List: true},
	{Method: "POST", Path: "/api/v1/users", Summary: "Add a member (creating the account if the email is new).", Request: "NewMember", Status: 201, Response: "Member"},
	{Method: "GET", Path: "/api/v1/users/{id}", Summary: "One member, by user id or email.", Params: []param{idParam}, Status: 200, Response: "Member"},
	{Method: "PATCH", Path: "/api/v1/users/{id}", Summary: "Change a member's name, role or disabled flag.", Params: []param{idParam}, Request: "MemberUpdate", Status: 200, Response: "Member"},
	{Method: "DELETE", Path: "/api/v1/users/{id}", Summary: "Remove a member from the organisation.", Params: []param{idParam}, Status: 204},
	{Method: "GET", Path: "/api/v1/tokens", Summary: "API tokens (admins see all of the organisation's, others their own).", Params: pageParams, Status: 200, Response: "Token", List: true},
	{Method: "POST", Path: "/api/v1/tokens", Summary: "Create a token for the caller's membership; the secret is in the response only.", Request: "NewToken", Status: 201, Response: "CreatedToken"},
	{Method: "DELETE", Path: "/api/v1/tokens/{id}", Summary: "Revoke a token.", Params: []param{idParam}, Status: 204},
	{Method: "GET", Path: "/api/v1/trail", Summary: "The organisation's audit trail, newest first.", Params: append([]param{
		{Name: "entity_type", In: "query", Description: "Only entries about this kind of record.", Type: "string"},
		{Name: "entity_id", In: "query", Description: "Only entries about this record.", Type: "string"},
		{Name: "entity", In: "query", Description: "TYPE:ID, shorthand for entity_type and entity_id.", Type: "string"},
		{Name: "actor", In: "query", Description: "Only entries by this actor id.", Type: "string"},
		{Name: "from", In: "query", Description: "Only entries at or after this RFC 3339 time.", Type: "string"},
		{Name: "to", In: "query", Description: "Only entries before this RFC 3339 time.", Type: "string"},
	}, pageParams...), Status: 200, Response: "TrailEntry", List: true},
}

// allOperations lists the documented operations of every area.
func allOperations() []operation {
	var all []operation
	for _, g := range [][]operation{operations, frameworkOperations, scopeOperations, assetOperations, riskOperations, soaOperations,
		policyOperations, trainingOperations, evidenceOperations, supplierOperations, readinessOperations, monitoringOperations, documentOperations, auditOperations, detectionOperations, incidentOperations} {
		all = append(all, g...)
	}
	return all
}

// areaSchemas lists the schemas of every area, merged into the document.
func areaSchemas() []map[string]any {
	return []map[string]any{frameworkSchemas(), scopeSchemas(), assetSchemas(), riskSchemas(), soaSchemas(),
		policySchemas(), trainingSchemas(), evidenceSchemas(), supplierSchemas(), readinessSchemas(), monitoringSchemas(), documentSchemas(), auditSchemas(), detectionSchemas(), incidentSchemas()}
}

func str() map[string]any            { return map[string]any{"type": "string"} }
func strFmt(f string) map[string]any { return map[string]any{"type": "string", "format": f} }
func nullable(t map[string]any) map[string]any {
	return map[string]any{"oneOf": []any{t, map[string]any{"type": "null"}}}
}
func obj(required []string, props map[string]any) map[string]any {
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func roleSchema() map[string]any {
	var roles []string
	for _, r := range vigil.Roles {
		roles = append(roles, string(r))
	}
	return map[string]any{"type": "string", "enum": roles}
}

func schemas() map[string]any {
	token := map[string]any{
		"id": str(), "name": str(), "user_id": str(), "email": strFmt("email"), "org_id": str(), "role": roleSchema(),
		"hint":       map[string]any{"type": "string", "description": "The last four characters of the secret."},
		"created_at": strFmt("date-time"), "expires_at": nullable(strFmt("date-time")),
		"revoked_at": nullable(strFmt("date-time")), "last_used_at": nullable(strFmt("date-time")),
	}
	created := map[string]any{"token": map[string]any{"type": "string", "description": "The secret, prefixed vgl_; shown once."}}
	for k, v := range token {
		created[k] = v
	}
	return map[string]any{
		"Status": obj([]string{"status"}, map[string]any{"status": str()}),
		"Problem": map[string]any{"type": "object", "required": []string{"type", "title", "status"}, "properties": map[string]any{
			"type": strFmt("uri"), "title": str(), "status": map[string]any{"type": "integer"}, "detail": str(), "instance": str(),
			"errors":    map[string]any{"type": "array", "items": obj([]string{"field", "message"}, map[string]any{"field": str(), "message": str()})},
			"conflicts": map[string]any{"type": "array", "items": str()},
		}},
		"Me":  obj([]string{"id", "email", "name", "org", "role"}, map[string]any{"id": str(), "email": strFmt("email"), "name": str(), "org": str(), "role": roleSchema()}),
		"Org": obj([]string{"id", "name", "role"}, map[string]any{"id": str(), "name": str(), "role": roleSchema()}),
		"Member": obj([]string{"id", "email", "name", "role", "disabled"}, map[string]any{
			"id": str(), "email": strFmt("email"), "name": str(), "role": roleSchema(), "disabled": map[string]any{"type": "boolean"}, "created_at": strFmt("date-time"),
		}),
		"NewMember": obj([]string{"email", "name", "role"}, map[string]any{
			"email": strFmt("email"), "name": str(), "role": roleSchema(),
			"password": map[string]any{"type": "string", "minLength": vigil.MinPasswordLength, "description": "Optional; without it the person cannot sign in with a password yet."},
		}),
		"MemberUpdate": obj(nil, map[string]any{"name": str(), "role": roleSchema(), "disabled": map[string]any{"type": "boolean"}}),
		"NewToken": obj(nil, map[string]any{
			"name":    str(),
			"expires": map[string]any{"type": "string", "description": "Lifetime as a duration such as 720h; empty for a token that does not expire."},
		}),
		"Token":        obj([]string{"id", "name", "role", "created_at"}, token),
		"CreatedToken": obj([]string{"id", "name", "token"}, created),
		"TrailEntry": obj([]string{"chain", "seq", "time", "actor_type", "actor_id", "action", "entity_type", "entity_id", "changes", "prev_hash", "hash"}, map[string]any{
			"chain": str(), "seq": map[string]any{"type": "integer"}, "time": strFmt("date-time"),
			"actor_type": map[string]any{"type": "string", "enum": []string{vigil.ActorUser, vigil.ActorToken, vigil.ActorSystem, vigil.ActorAgent}},
			"actor_id":   str(), "action": str(), "entity_type": str(), "entity_id": str(),
			"changes":   map[string]any{"description": "What changed: before/after per field on updates; never a secret."},
			"prev_hash": str(), "hash": map[string]any{"type": "string", "description": "hex SHA-256(previous hash ‖ canonical JSON of the entry)"},
		}),
	}
}

func mergedSchemas() map[string]any {
	all := schemas()
	for _, m := range areaSchemas() {
		for k, v := range m {
			if _, dup := all[k]; dup {
				panic("openapi: schema " + k + " defined twice")
			}
			all[k] = v
		}
	}
	return all
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

// openAPIDocument builds the OpenAPI 3.1 description of the API.
func openAPIDocument() map[string]any {
	paths := map[string]any{}
	problem := map[string]any{"description": "Error", "content": map[string]any{"application/problem+json": map[string]any{"schema": ref("Problem")}}}
	for _, op := range allOperations() {
		item, _ := paths[op.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[op.Path] = item
		}
		o := map[string]any{"summary": op.Summary, "operationId": operationID(op)}
		var params []any
		for _, p := range op.Params {
			params = append(params, map[string]any{"name": p.Name, "in": p.In, "description": p.Description, "required": p.Required, "schema": map[string]any{"type": p.Type}})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.Request != "" {
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(op.Request)}}}
		}
		ok := map[string]any{"description": http.StatusText(op.Status)}
		if op.Response != "" {
			schema := ref(op.Response)
			if op.List {
				schema = map[string]any{"type": "object", "required": []string{"items", "next_cursor"}, "properties": map[string]any{
					"items": map[string]any{"type": "array", "items": ref(op.Response)}, "next_cursor": nullable(str()),
				}}
			}
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schema}}
		}
		o["responses"] = map[string]any{strconv.Itoa(op.Status): ok, "default": problem}
		if strings.HasPrefix(op.Path, "/api/v1/") && op.Path != "/api/v1/openapi.json" {
			o["security"] = []any{map[string]any{"bearer": []any{}}}
		}
		item[strings.ToLower(op.Method)] = o
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title": "Vigil API", "version": vigil.Version,
			"description": "ISO/IEC 27001 ISMS, audits and activity monitoring. Errors are RFC 9457 problem documents; lists paginate with limit and cursor; times are UTC RFC 3339.",
		},
		"servers":    []any{map[string]any{"url": "/"}},
		"paths":      paths,
		"components": map[string]any{"schemas": mergedSchemas(), "securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "A token made with 'vigil token create' (vgl_…)."}}},
	}
}

func operationID(op operation) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(op.Method))
	for _, part := range strings.Split(op.Path, "/") {
		part = strings.Trim(part, "{}")
		part = strings.NewReplacer(".", "_", "-", "_").Replace(part)
		if part == "" || part == "api" || part == "v1" {
			continue
		}
		b.WriteString("_" + part)
	}
	return b.String()
}

var openAPIJSON = sync.OnceValue(func() []byte {
	b, err := json.MarshalIndent(openAPIDocument(), "", "  ")
	if err != nil {
		panic(err) // static data: a failure is a programming error caught by tests
	}
	return b
})

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIJSON())
}
