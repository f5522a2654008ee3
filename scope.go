package vigil

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ScopeStatus is where one version of the ISMS scope statement stands.
type ScopeStatus string

// A scope version is drafted, then approved; an approved version is frozen.
const (
	ScopeDraft    ScopeStatus = "draft"
	ScopeApproved ScopeStatus = "approved"
)

// ScopeExclusion is something left out of the ISMS. Clause 4.3 wants every
// exclusion justified, so the reason is required.
type ScopeExclusion struct {
	Item   string `json:"item"`
	Reason string `json:"reason"`
}

// Scope is one version of the ISMS scope statement (clause 4.3): its
// boundaries as units, locations, processes, systems and interfaces, and
// what is excluded and why.
type Scope struct {
	ID         string           `json:"-"`
	Version    int              `json:"version"`
	Status     ScopeStatus      `json:"status"`
	Statement  string           `json:"statement"`
	Units      []string         `json:"units"`
	Locations  []string         `json:"locations"`
	Processes  []string         `json:"processes"`
	Systems    []string         `json:"systems"`
	Interfaces []string         `json:"interfaces"`
	Exclusions []ScopeExclusion `json:"exclusions"`
	ApprovedAt *time.Time       `json:"approved_at"`
	ApprovedBy *string          `json:"approved_by"`
	CreatedAt  time.Time        `json:"created_at"`
	UpdatedAt  time.Time        `json:"updated_at"`
}

// Input returns the content of s, the part a draft may change.
func (s Scope) Input() ScopeInput {
	return ScopeInput{
		Statement: s.Statement, Units: s.Units, Locations: s.Locations, Processes: s.Processes,
		Systems: s.Systems, Interfaces: s.Interfaces, Exclusions: s.Exclusions,
	}
}

// ScopeInput is the content of a scope draft. Saving a draft replaces all
// of it.
type ScopeInput struct {
	Statement  string           `json:"statement"`
	Units      []string         `json:"units"`
	Locations  []string         `json:"locations"`
	Processes  []string         `json:"processes"`
	Systems    []string         `json:"systems"`
	Interfaces []string         `json:"interfaces"`
	Exclusions []ScopeExclusion `json:"exclusions"`
}

// Size limits of register texts, generous for prose yet bounded so one
// request cannot fill the database.
const (
	registerMaxTitle = 200
	registerMaxText  = 20000
	registerMaxItem  = 1000
	registerMaxItems = 500
)

// Normalize trims every text, drops empty and repeated list entries, and
// checks sizes and that every exclusion names its item and reason. Errors
// name the field, with the index of the entry as the caller sent it
// ("exclusions[2].reason").
func (in ScopeInput) Normalize() (ScopeInput, error) {
	var out ScopeInput
	var err error
	if out.Statement, err = registerText("statement", in.Statement, registerMaxText); err != nil {
		return out, err
	}
	lists := []struct {
		field   string
		in, out *[]string
	}{
		{"units", &in.Units, &out.Units}, {"locations", &in.Locations, &out.Locations}, {"processes", &in.Processes, &out.Processes},
		{"systems", &in.Systems, &out.Systems}, {"interfaces", &in.Interfaces, &out.Interfaces},
	}
	for _, l := range lists {
		if *l.out, err = registerItems(l.field, *l.in); err != nil {
			return out, err
		}
	}
	if len(in.Exclusions) > registerMaxItems {
		return out, Invalid("exclusions", "must have at most %d entries", registerMaxItems)
	}
	out.Exclusions = []ScopeExclusion{}
	for i, e := range in.Exclusions {
		item, reason := strings.TrimSpace(e.Item), strings.TrimSpace(e.Reason)
		field := fmt.Sprintf("exclusions[%d]", i)
		switch {
		case item == "" && reason == "":
			continue
		case item == "":
			return out, Invalid(field+".item", "must say what is excluded")
		case reason == "":
			return out, Invalid(field+".reason", "is required: say why %q is excluded", item)
		case utf8.RuneCountInString(item) > registerMaxItem:
			return out, Invalid(field+".item", "must be at most %d characters", registerMaxItem)
		case utf8.RuneCountInString(reason) > registerMaxText:
			return out, Invalid(field+".reason", "must be at most %d characters", registerMaxText)
		}
		if slices.ContainsFunc(out.Exclusions, func(x ScopeExclusion) bool { return x.Item == item }) {
			return out, Invalid(field+".item", "%q is excluded twice", item)
		}
		out.Exclusions = append(out.Exclusions, ScopeExclusion{Item: item, Reason: reason})
	}
	return out, nil
}

// registerItems trims a list of short texts, dropping empty and repeated
// entries; the result is never nil, so it encodes as [].
func registerItems(field string, items []string) ([]string, error) {
	if len(items) > registerMaxItems {
		return nil, Invalid(field, "must have at most %d entries", registerMaxItems)
	}
	out := []string{}
	for i, it := range items {
		it = strings.TrimSpace(it)
		if it == "" || slices.Contains(out, it) {
			continue
		}
		if utf8.RuneCountInString(it) > registerMaxItem {
			return nil, Invalid(fmt.Sprintf("%s[%d]", field, i), "must be at most %d characters", registerMaxItem)
		}
		out = append(out, it)
	}
	return out, nil
}

// registerText trims a free text and checks its length.
func registerText(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		return "", Invalid(field, "must be at most %d characters", max)
	}
	return s, nil
}

// registerTitle trims a required short title or name.
func registerTitle(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Invalid(field, "must not be empty")
	}
	if utf8.RuneCountInString(s) > registerMaxTitle {
		return "", Invalid(field, "must be at most %d characters", registerMaxTitle)
	}
	return s, nil
}

// registerDate checks an optional calendar date given as YYYY-MM-DD.
func registerDate(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return "", Invalid(field, "must be a date such as 2026-01-31")
	}
	return s, nil
}

// TextList is a list of short texts that callers may also send as one text:
// a JSON string is split into one entry per non-empty line, so a form's
// text area and an API client's array mean the same thing. It always
// encodes as an array.
type TextList []string

// UnmarshalJSON accepts an array of strings or a string.
func (l *TextList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = ParseTextList(s)
		return nil
	}
	var items []string
	if err := json.Unmarshal(b, &items); err != nil {
		// A type error lets the decoder name the field that was wrong.
		return &json.UnmarshalTypeError{Value: "a value other than a string or an array of strings", Type: reflect.TypeFor[TextList]()}
	}
	*l = items
	return nil
}

// MarshalJSON encodes the list as an array, [] when empty.
func (l TextList) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]string(l))
}

// Text returns the list as one entry per line, for a text area.
func (l TextList) Text() string { return strings.Join(l, "\n") }

// ParseTextList splits a text into its trimmed, non-empty lines.
func ParseTextList(s string) TextList {
	out := []string{}
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// registerTextList trims a TextList like registerItems.
func registerTextList(field string, l TextList) (TextList, error) {
	items, err := registerItems(field, l)
	return TextList(items), err
}
