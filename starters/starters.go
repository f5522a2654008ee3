// Package starters ships Vigil's starter texts for the policies a
// certification audit expects: the information-security policy and the six
// topic-specific policies on access control, confidentiality, integrity,
// availability of information assets, incident response and supplier
// security. The texts are Vigil's own, written as a reasonable first draft
// that an organisation adapts before approving it.
//
// Each starter is a Markdown file named after its policy kind; its first
// line is "# Title".
package starters

import (
	"embed"
	"strings"

	"github.com/vigilhq/vigil"
)

//go:embed *.md
var files embed.FS

// Starter is one starter text.
type Starter struct {
	Kind  vigil.PolicyKind `json:"kind"`
	Title string           `json:"title"`
	Body  string           `json:"body"` // Markdown, without the title line
}

// List returns the starters in the order of vigil.RequiredPolicyKinds.
func List() []Starter {
	out := make([]Starter, 0, len(vigil.RequiredPolicyKinds))
	for _, k := range vigil.RequiredPolicyKinds {
		if s, ok := Get(k); ok {
			out = append(out, s)
		}
	}
	return out
}

// Get returns the starter for a kind of policy.
func Get(kind vigil.PolicyKind) (Starter, bool) {
	if !kind.Valid() || kind == vigil.PolicyOther {
		return Starter{}, false
	}
	b, err := files.ReadFile(string(kind) + ".md")
	if err != nil {
		return Starter{}, false
	}
	title, body, _ := strings.Cut(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	return Starter{Kind: kind, Title: strings.TrimSpace(strings.TrimPrefix(title, "# ")), Body: strings.TrimSpace(body)}, true
}

// Input returns a new policy made from the starter for kind, with an owner
// and approver (members' user ids or emails; either may be empty).
func Input(kind vigil.PolicyKind, owner, approver string) (vigil.PolicyInput, error) {
	s, ok := Get(kind)
	if !ok {
		return vigil.PolicyInput{}, vigil.Invalid("starter", "must be one of %s", kinds())
	}
	return vigil.PolicyInput{Title: s.Title, Kind: s.Kind, Owner: owner, Approver: approver, Body: s.Body}, nil
}

func kinds() string {
	parts := make([]string, len(vigil.RequiredPolicyKinds))
	for i, k := range vigil.RequiredPolicyKinds {
		parts[i] = string(k)
	}
	return strings.Join(parts, ", ")
}
