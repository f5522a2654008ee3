package vigil

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRuleInputNormalize(t *testing.T) {
	t.Parallel()
	valid := func() RuleInput {
		return RuleInput{Name: " Shadow read ", Expression: ` event.user == "x" `, Severity: "High", Controls: []string{" 8.2", "8.2", "OWN-1"}}
	}
	tests := []struct {
		name  string
		edit  func(*RuleInput)
		field string // "" when valid
	}{
		{"valid", func(*RuleInput) {}, ""},
		{"no name", func(in *RuleInput) { in.Name = "  " }, "name"},
		{"long name", func(in *RuleInput) { in.Name = strings.Repeat("n", 201) }, "name"},
		{"no expression", func(in *RuleInput) { in.Expression = "" }, "expression"},
		{"long expression", func(in *RuleInput) { in.Expression = strings.Repeat("x", 4001) }, "expression"},
		{"bad severity", func(in *RuleInput) { in.Severity = "urgent" }, "severity"},
		{"empty control", func(in *RuleInput) { in.Controls = []string{"8.2", " "} }, "controls[1]"},
		{"long control", func(in *RuleInput) { in.Controls = []string{strings.Repeat("c", 41)} }, "controls[0]"},
		{"bad action", func(in *RuleInput) { in.Actions = []RuleAction{"reboot"} }, "actions[0]"},
		{"zero count", func(in *RuleInput) { in.Threshold = &RuleThreshold{Count: 0, Window: Duration(time.Minute)} }, "threshold.count"},
		{"zero window", func(in *RuleInput) { in.Threshold = &RuleThreshold{Count: 3} }, "threshold.window"},
		{"huge count", func(in *RuleInput) { in.Threshold = &RuleThreshold{Count: 10001, Window: Duration(time.Minute)} }, "threshold.count"},
		{"bad group", func(in *RuleInput) {
			in.Threshold = &RuleThreshold{Count: 3, Window: Duration(time.Minute), GroupBy: []string{"user", "tty"}}
		}, "threshold.group_by[1]"},
		{"negative throttle", func(in *RuleInput) { in.Throttle = Duration(-time.Second) }, "throttle"},
		{"long throttle", func(in *RuleInput) { in.Throttle = Duration(8 * 24 * time.Hour) }, "throttle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := valid()
			tc.edit(&in)
			out, err := in.Normalize()
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if out.Name != "Shadow read" || out.Severity != SeverityHigh || strings.Join(out.Controls, ",") != "8.2,OWN-1" ||
					len(out.Actions) != 1 || out.Actions[0] != ActionAlert || out.Expression != `event.user == "x"` {
					t.Errorf("normalized = %+v", out)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != EInvalid || e.Fields[0].Field != tc.field {
				t.Errorf("err = %v, want invalid %s", err, tc.field)
			}
		})
	}
}

func TestSeverity(t *testing.T) {
	t.Parallel()
	if SeverityLow.Rank() != 1 || SeverityCritical.Rank() != 4 || Severity("x").Rank() != 0 {
		t.Error("ranks")
	}
	if s, err := ParseSeverity(" CRITICAL "); s != SeverityCritical || err != nil {
		t.Errorf("ParseSeverity = %v, %v", s, err)
	}
	if _, err := ParseSeverity("meh"); err == nil {
		t.Error("ParseSeverity(meh): no error")
	}
}

func TestRuleJSON(t *testing.T) {
	t.Parallel()
	var th RuleThreshold
	if err := json.Unmarshal([]byte(`{"count":5,"window":"5m","group_by":["user"]}`), &th); err != nil || time.Duration(th.Window) != 5*time.Minute {
		t.Fatalf("%+v %v", th, err)
	}
	for _, bad := range []string{`{"window":"5 minutes"}`, `{"window":300}`} {
		if err := json.Unmarshal([]byte(bad), &th); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	b, err := json.Marshal(Rule{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"throttle":"0s"`, `"threshold":null`, `"builtin":""`, `"ref":""`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
}
