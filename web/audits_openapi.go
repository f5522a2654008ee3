package web

import "github.com/vigilhq/vigil"

// auditOperations documents the audits API for the OpenAPI document.
var auditOperations = func() []operation {
	id := param{Name: "id", In: "path", Description: "Identifier, or the short reference (such as AUD-3).", Type: "string", Required: true}
	item := param{Name: "item_id", In: "path", Description: "Checklist item id.", Type: "string", Required: true}
	gid := param{Name: "guest_id", In: "path", Description: "Guest grant id.", Type: "string", Required: true}
	q := func(name, desc string) param {
		return param{Name: name, In: "query", Description: desc, Type: "string"}
	}
	return []operation{
		{Method: "GET", Path: "/api/v1/audit-programme", Summary: "The internal audit programme of the current 3-year cycle (9.2.2).", Status: 200, Response: "AuditProgramme"},
		{Method: "PUT", Path: "/api/v1/audit-programme", Summary: "Replace the programme: cycle start, objectives, areas and their audit frequency.", Request: "AuditProgrammeInput", Status: 200, Response: "AuditProgramme"},
		{Method: "GET", Path: "/api/v1/audit-programme/coverage", Summary: "Which clauses, applicable controls and processes the cycle's audits cover: audited, planned or not_covered (9.2 c).", Status: 200, Response: "Coverage"},
		{Method: "GET", Path: "/api/v1/audits", Summary: "Audits by planned start.", Params: append([]param{q("type", "Only audits of this type.")}, pageParams...), Status: 200, Response: "Audit", List: true},
		{Method: "POST", Path: "/api/v1/audits", Summary: "Plan an audit (AUD-n) and generate its checklist. 409 lists each impartiality conflict; an admin may override with impartiality_override.", Request: "AuditInput", Status: 201, Response: "Audit"},
		{Method: "GET", Path: "/api/v1/audits/{id}", Summary: "One audit.", Params: []param{id}, Status: 200, Response: "Audit"},
		{Method: "PATCH", Path: "/api/v1/audits/{id}", Summary: "Change an audit; impartiality is checked again; 409 once its report is issued.", Params: []param{id}, Request: "AuditInput", Status: 200, Response: "Audit"},
		{Method: "DELETE", Path: "/api/v1/audits/{id}", Summary: "Delete a planned audit without findings.", Params: []param{id}, Status: 204},
		{Method: "GET", Path: "/api/v1/audits/{id}/checklist", Summary: "The audit's checklist, one item per requirement, control or process in scope.", Params: []param{id}, Status: 200, Response: "ChecklistItem", List: true},
		{Method: "PATCH", Path: "/api/v1/audits/{id}/checklist/{item_id}", Summary: "Set an item's result, notes and evidence links; a finding result opens a finding (NC-n).", Params: []param{id, item}, Request: "ChecklistUpdate", Status: 200, Response: "ChecklistItem"},
		{Method: "POST", Path: "/api/v1/audits/{id}/report", Summary: "Issue the audit report (body: {\"summary\": \"…\"}); stored as PDF, its SHA-256 written to the trail; 409 if already issued.", Params: []param{id}, Request: "ReportInput", Status: 201, Response: "Audit"},
		{Method: "GET", Path: "/api/v1/audits/{id}/report.pdf", Summary: "The issued report as stored (application/pdf; X-Content-SHA256 header).", Params: []param{id}, Status: 200},
		{Method: "GET", Path: "/api/v1/audits/{id}/guests", Summary: "External auditors invited to the audit.", Params: []param{id}, Status: 200, Response: "AuditGuest", List: true},
		{Method: "POST", Path: "/api/v1/audits/{id}/guests", Summary: "Invite an external auditor for a window: read-only, limited to this audit, every read in the trail. The response carries their API token once.", Params: []param{id}, Request: "AuditGuestInput", Status: 201, Response: "AuditGuest"},
		{Method: "DELETE", Path: "/api/v1/audits/{id}/guests/{guest_id}", Summary: "End a guest's access now.", Params: []param{id, gid}, Status: 204},
		{Method: "GET", Path: "/api/v1/findings", Summary: "Findings (NC-n), oldest first.", Params: append([]param{q("audit", "Only findings of this audit (id or ref)."), q("status", "open, closed or withdrawn.")}, pageParams...), Status: 200, Response: "Finding", List: true},
		{Method: "POST", Path: "/api/v1/findings", Summary: "Record a finding by hand, such as the certification body's (majors get a 90-day deadline by default).", Request: "FindingInput", Status: 201, Response: "Finding"},
		{Method: "GET", Path: "/api/v1/findings/{id}", Summary: "One finding.", Params: []param{id}, Status: 200, Response: "Finding"},
		{Method: "PATCH", Path: "/api/v1/findings/{id}", Summary: "Change a finding's description or deadline, or close an observation or opportunity.", Params: []param{id}, Request: "FindingUpdate", Status: 200, Response: "Finding"},
		{Method: "GET", Path: "/api/v1/corrective-actions", Summary: "Corrective actions (CA-n), oldest first.", Params: append([]param{q("finding", "Only actions of this finding."), q("status", "Only actions with this status."), q("overdue", "true: only open actions past their due date.")}, pageParams...), Status: 200, Response: "CorrectiveAction", List: true},
		{Method: "POST", Path: "/api/v1/corrective-actions", Summary: "Plan a corrective action for a finding.", Request: "CorrectiveActionInput", Status: 201, Response: "CorrectiveAction"},
		{Method: "GET", Path: "/api/v1/corrective-actions/{id}", Summary: "One corrective action.", Params: []param{id}, Status: 200, Response: "CorrectiveAction"},
		{Method: "PATCH", Path: "/api/v1/corrective-actions/{id}", Summary: "Update an action; status open → in_progress → done → verified_effective | ineffective. Done needs a root cause; verification by someone other than the owner (403 otherwise).", Params: []param{id}, Request: "CorrectiveActionUpdate", Status: 200, Response: "CorrectiveAction"},
		{Method: "GET", Path: "/api/v1/management-reviews", Summary: "Management reviews (MR-n).", Params: pageParams, Status: 200, Response: "ManagementReview", List: true},
		{Method: "POST", Path: "/api/v1/management-reviews", Summary: "Open a draft review; its 9.3.2 inputs are assembled from live data.", Request: "ManagementReviewInput", Status: 201, Response: "ManagementReview"},
		{Method: "GET", Path: "/api/v1/management-reviews/{id}", Summary: "One review with its inputs (live while a draft, frozen once signed off).", Params: []param{id}, Status: 200, Response: "ManagementReview"},
		{Method: "PATCH", Path: "/api/v1/management-reviews/{id}", Summary: "Change a draft: attendees, decisions and changes (9.3.3), actions; 409 once signed off.", Params: []param{id}, Request: "ManagementReviewInput", Status: 200, Response: "ManagementReview"},
		{Method: "DELETE", Path: "/api/v1/management-reviews/{id}", Summary: "Delete a draft review.", Params: []param{id}, Status: 204},
		{Method: "POST", Path: "/api/v1/management-reviews/{id}/sign-off", Summary: "Sign off: freeze the inputs and lock the review.", Params: []param{id}, Status: 200, Response: "ManagementReview"},
		{Method: "GET", Path: "/api/v1/certification", Summary: "The certificate and its cycle; expiry_date is issue_date + 3 years.", Status: 200, Response: "Certification"},
		{Method: "PUT", Path: "/api/v1/certification", Summary: "Replace the certificate record.", Request: "CertificationInput", Status: 200, Response: "Certification"},
		{Method: "GET", Path: "/api/v1/certification/schedule", Summary: "Due dates the certificate implies (surveillance, recertification, expiry) with the audits planned for them.", Status: 200, Response: "ScheduleItem", List: true},
		{Method: "GET", Path: "/api/v1/changes", Summary: "Significant changes (CHG-n) that may call for special audits.", Params: pageParams, Status: 200, Response: "Change", List: true},
		{Method: "POST", Path: "/api/v1/changes", Summary: "Record a change: what, when, why. Raise a special audit by creating an audit of type special with change set.", Request: "ChangeInput", Status: 201, Response: "Change"},
		{Method: "GET", Path: "/api/v1/changes/{id}", Summary: "One change.", Params: []param{id}, Status: 200, Response: "Change"},
		{Method: "PUT", Path: "/api/v1/changes/{id}", Summary: "Replace a change.", Params: []param{id}, Request: "ChangeInput", Status: 200, Response: "Change"},
		{Method: "DELETE", Path: "/api/v1/changes/{id}", Summary: "Delete a change no audit follows.", Params: []param{id}, Status: 204},
		{Method: "POST", Path: "/api/v1/calendar/feed", Summary: "Create (or replace) the caller's calendar feed URL; the old one stops working.", Status: 201, Response: "CalendarFeed"},
		{Method: "GET", Path: "/api/v1/calendar.ics", Summary: "iCalendar feed of audits, certification due dates, corrective actions, policy and risk reviews, authenticated by the token in the URL.",
			Params: []param{{Name: "token", In: "query", Description: "The feed token from POST /api/v1/calendar/feed.", Type: "string", Required: true}}, Status: 200},
	}
}()

// auditSchemas are the OpenAPI schemas of the audits API.
func auditSchemas() map[string]any {
	date := map[string]any{"type": "string", "description": "YYYY-MM-DD; empty when not set."}
	strs := map[string]any{"type": "array", "items": str()}
	enum := func(vals ...string) map[string]any { return map[string]any{"type": "string", "enum": vals} }
	var types, results, kinds, statuses []string
	for _, t := range vigil.AuditTypes {
		types = append(types, string(t))
	}
	for _, r := range vigil.ChecklistResults {
		results = append(results, string(r))
	}
	for _, k := range vigil.FindingKinds {
		kinds = append(kinds, string(k))
	}
	for _, s := range vigil.ActionStatuses {
		statuses = append(statuses, string(s))
	}
	scope := obj(nil, map[string]any{"requirements": map[string]any{"type": "array", "items": str(), "description": "Clauses as 9.2, Annex A controls as A.8.15 (or 8.15), own controls as CTL-n; a ref covers those numbered below it."},
		"assets": strs, "processes": strs})
	auditIn := map[string]any{
		"type": enum(types...), "title": str(), "criteria": str(), "scope": scope,
		"planned_start": date, "planned_end": date, "actual_start": date, "actual_end": date,
		"lead_auditor": ismsPerson, "auditors": map[string]any{"type": "array", "items": str(), "description": "Members' user ids or emails."},
		"certification_body": str(), "body_auditors": strs,
		"impartiality_override": map[string]any{"type": "string", "description": "Admins only: the written reason for letting an auditor audit what they own."},
		"change":                map[string]any{"type": "string", "description": "The change (id or CHG-n) a special audit follows."},
	}
	audit := map[string]any{"id": str(), "ref": str(), "status": enum("planned", "in_progress", "completed", "reported"),
		"report_issued_at": nullable(strFmt("date-time")), "report_sha256": str(), "created_at": strFmt("date-time"), "updated_at": strFmt("date-time")}
	for k, v := range auditIn {
		audit[k] = v
	}
	link := obj([]string{"type", "ref"}, map[string]any{"type": enum(vigil.EvidenceLinkTypes...), "ref": str()})
	anyObj := func(desc string) map[string]any { return map[string]any{"type": "object", "description": desc} }
	return map[string]any{
		"AuditInput": obj([]string{"type", "title", "planned_start"}, auditIn),
		"Audit":      obj(nil, audit),
		"ChecklistItem": obj(nil, map[string]any{"id": str(), "ref": str(), "kind": enum("clause", "control", "process"), "title": str(), "prompt": str(),
			"result": enum(append([]string{""}, results...)...), "notes": str(), "evidence": map[string]any{"type": "array", "items": link}, "finding": str(), "updated_at": strFmt("date-time")}),
		"ChecklistUpdate": obj(nil, map[string]any{"result": enum(results...), "notes": str(), "evidence": map[string]any{"type": "array", "items": link}}),
		"ReportInput":     obj([]string{"summary"}, map[string]any{"summary": str()}),
		"Finding": obj(nil, map[string]any{"id": str(), "ref": str(), "audit": str(), "audit_ref": str(), "checklist_item": str(), "requirement": str(),
			"kind": enum(kinds...), "description": str(), "status": enum("open", "closed", "withdrawn"), "deadline": date,
			"created_at": strFmt("date-time"), "closed_at": nullable(strFmt("date-time"))}),
		"FindingInput":  obj([]string{"audit", "requirement", "kind"}, map[string]any{"audit": str(), "requirement": str(), "kind": enum(kinds...), "description": str(), "deadline": date}),
		"FindingUpdate": obj(nil, map[string]any{"description": str(), "deadline": date, "status": enum("open", "closed")}),
		"CorrectiveAction": obj(nil, map[string]any{"id": str(), "ref": str(), "finding": str(), "finding_ref": str(), "correction": str(), "root_cause": str(),
			"action": str(), "owner": str(), "due_date": date, "status": enum(statuses...), "verified_by": str(), "verified_at": nullable(strFmt("date-time")),
			"verification_notes": str(), "created_at": strFmt("date-time"), "updated_at": strFmt("date-time")}),
		"CorrectiveActionInput": obj([]string{"finding", "action", "owner", "due_date"}, map[string]any{"finding": str(), "correction": str(), "root_cause": str(),
			"action": str(), "owner": ismsPerson, "due_date": date}),
		"CorrectiveActionUpdate": obj(nil, map[string]any{"correction": str(), "root_cause": str(), "action": str(), "owner": ismsPerson, "due_date": date,
			"status": enum(statuses...), "verification_notes": str()}),
		"AuditProgramme":        anyObj("cycle_start, cycle_end, objectives, areas (ref, kind requirement|process, frequency_months, reason, owner), default_frequency_months."),
		"AuditProgrammeInput":   anyObj("cycle_start, objectives, areas, default_frequency_months."),
		"Coverage":              anyObj("cycle_start, cycle_end, counts audited/planned/not_covered, and items (ref, kind, title, status, frequency_months, last_audited, next_due, overdue, audits)."),
		"ManagementReview":      anyObj("id, ref, title, meeting_date, attendees, inputs (9.3.2), decisions, changes (9.3.3), actions, notes, status draft|signed_off, signed_off_by, signed_off_at."),
		"ManagementReviewInput": anyObj("title, meeting_date, attendees, decisions, changes, actions (description, owner, due_date, status), notes."),
		"Certification": obj(nil, map[string]any{"certification_body": str(), "certificate_number": str(), "scope": str(), "stage1_date": date, "stage1_outcome": str(),
			"stage2_date": date, "stage2_outcome": str(), "issue_date": date, "expiry_date": date, "surveillance_interval_months": map[string]any{"type": "integer", "enum": []int{6, 12}},
			"updated_at": strFmt("date-time")}),
		"CertificationInput": obj(nil, map[string]any{"certification_body": str(), "certificate_number": str(), "scope": str(), "stage1_date": date, "stage1_outcome": str(),
			"stage2_date": date, "stage2_outcome": str(), "issue_date": date, "surveillance_interval_months": map[string]any{"type": "integer", "enum": []int{6, 12}}}),
		"ScheduleItem": obj(nil, map[string]any{"kind": enum("surveillance", "recertification", "expiry"), "number": map[string]any{"type": "integer"}, "due_date": date,
			"audit": str(), "audit_ref": str(), "status": str()}),
		"Change":          anyObj("id, ref, title (what changed), description, changed_on, reason, significant, audits (special audits raised)."),
		"ChangeInput":     obj([]string{"title", "changed_on"}, map[string]any{"title": str(), "description": str(), "changed_on": date, "reason": str(), "significant": map[string]any{"type": "boolean"}}),
		"AuditGuest":      anyObj("id, audit, user_id, email, valid_from, valid_until, revoked_at, created_at; on creation also token."),
		"AuditGuestInput": obj([]string{"email", "valid_from", "valid_until"}, map[string]any{"email": strFmt("email"), "name": str(), "valid_from": str(), "valid_until": str()}),
		"CalendarFeed":    obj([]string{"url"}, map[string]any{"url": strFmt("uri")}),
	}
}
