package web

// detectionOperations documents rules, alerts, channels, risk scores and
// response actions.
var detectionOperations = func() []operation {
	id := param{Name: "id", In: "path", Description: "Identifier, or the short reference (such as RUL-3 or ALR-12).", Type: "string", Required: true}
	q := func(name, desc string) param {
		return param{Name: name, In: "query", Description: desc, Type: "string"}
	}
	return []operation{
		{Method: "GET", Path: "/api/v1/rules", Summary: "Detection rules, oldest first.", Params: pageParams, Status: 200, Response: "Rule", List: true},
		{Method: "POST", Path: "/api/v1/rules", Summary: "Add a rule; an expression that does not compile is refused with 400 and its line and column.", Request: "RuleInput", Status: 201, Response: "Rule"},
		{Method: "GET", Path: "/api/v1/rules/builtin", Summary: "The built-in rule pack, with the organisation's installed copies.", Status: 200, Response: "BuiltinRule", List: true},
		{Method: "POST", Path: "/api/v1/rules/builtin", Summary: "Install editable copies of built-in rules (body {\"ids\": [...]}, empty for all).", Request: "BuiltinInstall", Status: 201, Response: "Rule", List: true},
		{Method: "GET", Path: "/api/v1/rules/reference", Summary: "The fields and helpers expressions can use (Markdown).", Status: 200},
		{Method: "POST", Path: "/api/v1/rules/test", Summary: "Dry-run an expression against the last N stored events (body {\"expression\": \"…\", \"last\": 1000}).", Request: "RuleTestInput", Status: 200, Response: "RuleTest"},
		{Method: "GET", Path: "/api/v1/rules/{id}", Summary: "One rule.", Params: []param{id}, Status: 200, Response: "Rule"},
		{Method: "PUT", Path: "/api/v1/rules/{id}", Summary: "Replace a rule.", Params: []param{id}, Request: "RuleInput", Status: 200, Response: "Rule"},
		{Method: "PATCH", Path: "/api/v1/rules/{id}", Summary: "Change the given fields of a rule, such as enabled.", Params: []param{id}, Request: "RuleInput", Status: 200, Response: "Rule"},
		{Method: "DELETE", Path: "/api/v1/rules/{id}", Summary: "Delete a rule; its alerts stay.", Params: []param{id}, Status: 204},
		{Method: "GET", Path: "/api/v1/alerts", Summary: "Alerts, newest first.", Params: append([]param{q("status", "open, acknowledged or closed."), q("severity", "low, medium, high or critical."),
			q("rule", "Rule id."), q("user", "Account name on the host."), q("session", "Recorded session id.")}, pageParams...), Status: 200, Response: "Alert", List: true},
		{Method: "GET", Path: "/api/v1/alerts/stream", Summary: "New alerts as Server-Sent Events (event: alert, data: the alert).", Status: 200},
		{Method: "GET", Path: "/api/v1/alerts/{id}", Summary: "One alert with its delivery log.", Params: []param{id}, Status: 200, Response: "Alert"},
		{Method: "PATCH", Path: "/api/v1/alerts/{id}", Summary: "Acknowledge, close (with a note) or reopen an alert.", Params: []param{id}, Request: "AlertUpdate", Status: 200, Response: "Alert"},
		{Method: "GET", Path: "/api/v1/channels", Summary: "Notification channels (secrets never shown).", Params: pageParams, Status: 200, Response: "Channel", List: true},
		{Method: "POST", Path: "/api/v1/channels", Summary: "Add a channel: webhook, slack, email or syslog. A webhook without a secret gets one, shown once.", Request: "ChannelInput", Status: 201, Response: "Channel"},
		{Method: "GET", Path: "/api/v1/channels/{id}", Summary: "One channel.", Params: []param{idParam}, Status: 200, Response: "Channel"},
		{Method: "PUT", Path: "/api/v1/channels/{id}", Summary: "Replace a channel; an empty secret keeps the current one.", Params: []param{idParam}, Request: "ChannelInput", Status: 200, Response: "Channel"},
		{Method: "DELETE", Path: "/api/v1/channels/{id}", Summary: "Delete a channel.", Params: []param{idParam}, Status: 204},
		{Method: "POST", Path: "/api/v1/channels/{id}/test", Summary: "Send a test message and return the delivery (status code, attempts, error).", Params: []param{idParam}, Status: 200, Response: "Delivery"},
		{Method: "GET", Path: "/api/v1/people/{id}/risk", Summary: "A person's rolling risk score (by account name): alerts of the last 30 days weighted by severity, fading with age.",
			Params: []param{{Name: "id", In: "path", Description: "Account name on the hosts.", Type: "string", Required: true}}, Status: 200, Response: "PersonRisk"},
		{Method: "GET", Path: "/api/v1/response-actions", Summary: "Response actions sent to agents, newest first.", Params: pageParams, Status: 200, Response: "ResponseAction", List: true},
		{Method: "POST", Path: "/api/v1/response-actions", Summary: "End a session (kill_session) or lock/unlock an account on a host, with a reason.", Request: "ResponseActionInput", Status: 201, Response: "ResponseAction"},
		{Method: "GET", Path: "/api/v1/response-actions/{id}", Summary: "One response action and how it went.", Params: []param{idParam}, Status: 200, Response: "ResponseAction"},
	}
}()

// detectionSchemas are the schemas of the detection API.
func detectionSchemas() map[string]any {
	sev := map[string]any{"type": "string", "enum": []string{"low", "medium", "high", "critical"}}
	dur := map[string]any{"type": "string", "description": "A duration such as 5m or 1h."}
	strs := map[string]any{"type": "array", "items": str()}
	threshold := nullable(obj([]string{"count", "window"}, map[string]any{"count": map[string]any{"type": "integer", "minimum": 1}, "window": dur,
		"group_by": map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": []string{"user", "host", "source_ip", "target_user", "session", "command"}}}}))
	ruleIn := map[string]any{"name": str(), "description": str(), "expression": map[string]any{"type": "string", "description": "CEL over one event; see GET /api/v1/rules/reference."},
		"severity": sev, "controls": strs, "enabled": map[string]any{"type": "boolean"},
		"actions":   map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": []string{"alert", "kill_session", "lock_user"}}},
		"threshold": threshold, "throttle": dur}
	rule := map[string]any{"id": str(), "ref": str(), "builtin": str(), "created_at": strFmt("date-time"), "updated_at": strFmt("date-time")}
	for k, v := range ruleIn {
		rule[k] = v
	}
	anyObj := func(desc string) map[string]any { return map[string]any{"type": "object", "description": desc} }
	return map[string]any{
		"RuleInput":      obj([]string{"name", "expression", "severity"}, ruleIn),
		"Rule":           obj(nil, rule),
		"BuiltinRule":    anyObj("A rule of the built-in pack: id, the rule's fields, and installed (the organisation's copy, or empty)."),
		"BuiltinInstall": obj(nil, map[string]any{"ids": strs}),
		"RuleTestInput":  obj([]string{"expression"}, map[string]any{"expression": str(), "last": map[string]any{"type": "integer", "minimum": 1, "maximum": maxDryRunEvents}}),
		"RuleTest":       anyObj("evaluated (events read) and matches (the events the expression matched)."),
		"Alert": anyObj("id, ref (ALR-n), rule, rule_name, severity, status (open, acknowledged, closed), group, event, session, offset (seconds into the recording), " +
			"host_id, host, user, controls, occurrences, note, acknowledged_by/at, closed_by/at, created_at, last_seen_at, deliveries."),
		"AlertUpdate": obj([]string{"status"}, map[string]any{"status": map[string]any{"type": "string", "enum": []string{"open", "acknowledged", "closed"}}, "note": str()}),
		"ChannelInput": obj([]string{"name", "type"}, map[string]any{"name": str(), "type": map[string]any{"type": "string", "enum": []string{"webhook", "slack", "email", "syslog"}},
			"url": str(), "secret": str(), "min_severity": sev, "to": strs, "address": str(), "protocol": map[string]any{"type": "string", "enum": []string{"udp", "tcp"}}, "enabled": map[string]any{"type": "boolean"}}),
		"Channel":             anyObj("id, name, type, url, secret_set, min_severity, to, address, protocol, enabled, created_at, updated_at; secret only once, on creation."),
		"Delivery":            anyObj("channel_id, channel, status (delivered, failed), status_code, attempts, error, at."),
		"PersonRisk":          anyObj("user, score, alerts (those that make it up)."),
		"ResponseAction":      anyObj("id, kind, host_id, host, session, user, reason, alert, requested_by, status (pending, delivered, done, failed), error, created_at, delivered_at, done_at."),
		"ResponseActionInput": obj([]string{"action", "reason"}, map[string]any{"action": map[string]any{"type": "string", "enum": []string{"kill_session", "lock_user", "unlock_user"}}, "session": str(), "host": str(), "user": str(), "reason": str(), "alert": str()}),
	}
}
