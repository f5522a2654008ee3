package vigil

import "testing"

func TestNewReadiness(t *testing.T) {
	t.Parallel()
	mk := func(passed ...bool) []ReadinessCheck {
		var cs []ReadinessCheck
		for _, p := range passed {
			cs = append(cs, ReadinessCheck{Passed: p})
		}
		return cs
	}
	tests := []struct {
		checks []ReadinessCheck
		ready  bool
		score  int
	}{
		{mk(true, true, true), true, 100},
		{mk(true, false, true), false, 67},
		{mk(false, false, false), false, 0},
		{mk(true, true, true, true, true, false, false, false, false, false, false), false, 45},
		{nil, false, 0},
	}
	for _, tt := range tests {
		r := NewReadiness(tt.checks)
		if r.Ready != tt.ready || r.Score != tt.score {
			t.Errorf("NewReadiness(%d checks) = ready %v score %d; want %v %d", len(tt.checks), r.Ready, r.Score, tt.ready, tt.score)
		}
	}
}

func TestCountedRefs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		total int
		refs  []string
		want  string
	}{
		{0, nil, "0 assets without a risk"},
		{1, []string{"AST-7"}, "1 asset without a risk: AST-7"},
		{3, []string{"AST-4", "AST-9", "AST-12"}, "3 assets without a risk: AST-4, AST-9, AST-12"},
		{4, []string{"AST-1", "AST-2"}, "4 assets without a risk: AST-1, AST-2 and 2 more"},
	}
	for _, tt := range tests {
		if got := CountedRefs("asset without a risk", "assets without a risk", tt.total, tt.refs); got != tt.want {
			t.Errorf("CountedRefs(%d, %v) = %q, want %q", tt.total, tt.refs, got, tt.want)
		}
	}
}
