package vigil

import (
	"path"
	"strings"
	"time"
	"unicode"
)

// MaxUploadBytes bounds an uploaded file (evidence or a policy document):
// 25 MiB. Larger uploads are refused with ETooLarge.
const MaxUploadBytes = 25 << 20

// Evidence is a file that shows a requirement is met, cited as EVD-n. The
// bytes are stored once per organisation under their SHA-256.
type Evidence struct {
	ID           string `json:"id"`
	Ref          string `json:"ref"`
	Title        string `json:"title"`
	Description  string `json:"description"`
	Collector    string `json:"collector"`     // user id
	ObservedFrom string `json:"observed_from"` // YYYY-MM-DD or ""
	ObservedTo   string `json:"observed_to"`   // YYYY-MM-DD or ""
	ValidUntil   string `json:"valid_until"`   // YYYY-MM-DD or "" (never stale)
	SHA256       string `json:"sha256"`
	Size         int64  `json:"size"`
	// ContentType is sniffed from the bytes, never taken from the upload.
	ContentType string `json:"content_type"`
	Filename    string `json:"filename"`
	// Stale is computed: ValidUntil is before today.
	Stale        bool      `json:"stale"`
	Requirements []string  `json:"requirements"` // clause or Annex A control refs
	Risks        []string  `json:"risks"`        // risk ids
	Policies     []string  `json:"policies"`     // policy ids
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// IsStale reports whether evidence valid until validUntil is stale on today
// (both YYYY-MM-DD). Evidence without an end of validity never goes stale.
func IsStale(validUntil, today string) bool {
	return validUntil != "" && validUntil < today
}

// EvidenceInput describes evidence to store, apart from its bytes.
// Collector is a member's user id or email; Risks and Policies take ids or
// references (RSK-3, POL-2).
type EvidenceInput struct {
	Title        string   `json:"title"`
	Description  string   `json:"description"`
	Collector    string   `json:"collector"`
	ObservedFrom string   `json:"observed_from"`
	ObservedTo   string   `json:"observed_to"`
	ValidUntil   string   `json:"valid_until"`
	Filename     string   `json:"filename"`
	Requirements []string `json:"requirements"`
	Risks        []string `json:"risks"`
	Policies     []string `json:"policies"`
}

// Normalize trims and checks the fields that need no database.
func (in EvidenceInput) Normalize() (EvidenceInput, error) {
	var err error
	if in.Title, err = policyText("title", in.Title, 200, true); err != nil {
		return in, err
	}
	if in.Description, err = policyText("description", in.Description, 10000, false); err != nil {
		return in, err
	}
	in.Collector = strings.TrimSpace(in.Collector)
	if in.ObservedFrom, err = ParseDateField("observed_from", in.ObservedFrom); err != nil {
		return in, err
	}
	if in.ObservedTo, err = ParseDateField("observed_to", in.ObservedTo); err != nil {
		return in, err
	}
	if in.ObservedFrom != "" && in.ObservedTo != "" && in.ObservedTo < in.ObservedFrom {
		return in, Invalid("observed_to", "must not be before observed_from")
	}
	if in.ValidUntil, err = ParseDateField("valid_until", in.ValidUntil); err != nil {
		return in, err
	}
	in.Filename = CleanFilename(in.Filename)
	in.Requirements = cleanList(in.Requirements)
	in.Risks = cleanList(in.Risks)
	in.Policies = cleanList(in.Policies)
	return in, nil
}

// Input returns the editable fields of e.
func (e Evidence) Input() EvidenceInput {
	return EvidenceInput{Title: e.Title, Description: e.Description, Collector: e.Collector, ObservedFrom: e.ObservedFrom,
		ObservedTo: e.ObservedTo, ValidUntil: e.ValidUntil, Filename: e.Filename,
		Requirements: append([]string(nil), e.Requirements...), Risks: append([]string(nil), e.Risks...), Policies: append([]string(nil), e.Policies...)}
}

// EvidenceUpdate changes evidence metadata and links; nil fields stay as
// they are. The file itself never changes: upload new evidence instead.
type EvidenceUpdate struct {
	Title        *string   `json:"title"`
	Description  *string   `json:"description"`
	Collector    *string   `json:"collector"`
	ObservedFrom *string   `json:"observed_from"`
	ObservedTo   *string   `json:"observed_to"`
	ValidUntil   *string   `json:"valid_until"`
	Requirements *[]string `json:"requirements"`
	Risks        *[]string `json:"risks"`
	Policies     *[]string `json:"policies"`
}

// Apply returns in with the set fields of u.
func (u EvidenceUpdate) Apply(in EvidenceInput) EvidenceInput {
	for _, f := range []struct {
		dst *string
		v   *string
	}{{&in.Title, u.Title}, {&in.Description, u.Description}, {&in.Collector, u.Collector}, {&in.ObservedFrom, u.ObservedFrom},
		{&in.ObservedTo, u.ObservedTo}, {&in.ValidUntil, u.ValidUntil}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	for _, f := range []struct {
		dst *[]string
		v   *[]string
	}{{&in.Requirements, u.Requirements}, {&in.Risks, u.Risks}, {&in.Policies, u.Policies}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	return in
}

// EvidenceFilter narrows an evidence listing. Empty fields match everything.
type EvidenceFilter struct {
	Requirement string // a clause or control ref, e.g. 8.15
	Risk        string // risk id
	Policy      string // policy id
	Stale       *bool
	After       string // id cursor
	Limit       int
}

// CleanFilename keeps the last element of an uploaded file's name, without
// control characters or quotes, so it is safe in a Content-Disposition
// header and on any file system.
func CleanFilename(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(strings.TrimSpace(name))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' || r == '/' {
			return -1
		}
		return r
	}, name)
	if name == "." || name == ".." || name == "/" {
		name = ""
	}
	if r := []rune(name); len(r) > 200 {
		name = string(r[len(r)-200:])
	}
	return name
}

// cleanList trims a list of references and drops blanks and duplicates.
func cleanList(in []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, s := range in {
		for _, part := range strings.Split(s, ",") {
			part = strings.TrimSpace(part)
			if part != "" && !seen[part] {
				seen[part] = true
				out = append(out, part)
			}
		}
	}
	return out
}
