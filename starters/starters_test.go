package starters

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vigilhq/vigil"
)

func TestEveryRequiredKindHasAStarter(t *testing.T) {
	t.Parallel()
	list := List()
	if len(list) != len(vigil.RequiredPolicyKinds) {
		t.Fatalf("%d starters, want %d", len(list), len(vigil.RequiredPolicyKinds))
	}
	for i, s := range list {
		if s.Kind != vigil.RequiredPolicyKinds[i] {
			t.Errorf("starter %d is %s, want %s", i, s.Kind, vigil.RequiredPolicyKinds[i])
		}
		words := len(strings.Fields(s.Body))
		if s.Title == "" || strings.HasPrefix(s.Title, "#") || words < 250 || words > 1500 {
			t.Errorf("%s: title %q, %d words", s.Kind, s.Title, words)
		}
		if !utf8.ValidString(s.Body) || strings.Contains(s.Body, "<") {
			t.Errorf("%s: body must be plain Markdown without HTML", s.Kind)
		}
		in, err := Input(s.Kind, "", "")
		if err != nil {
			t.Fatalf("%s: %v", s.Kind, err)
		}
		if _, err := in.Normalize(); err != nil {
			t.Errorf("%s: starter is not a valid policy: %v", s.Kind, err)
		}
	}
}

func TestUnknownStarter(t *testing.T) {
	t.Parallel()
	for _, k := range []vigil.PolicyKind{"", vigil.PolicyOther, "nope", "../starters"} {
		if _, err := Input(k, "", ""); vigil.ErrorCode(err) != vigil.EInvalid {
			t.Errorf("Input(%q) = %v, want invalid", k, err)
		}
	}
}
