package vigil

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAddMonthsClamps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		day    string
		months int
		want   string
	}{
		{"2024-02-29", 12, "2025-02-28"},
		{"2024-08-31", 6, "2025-02-28"},
		{"2023-08-31", 6, "2024-02-29"},
		{"2026-01-31", 1, "2026-02-28"},
		{"2026-01-15", 33, "2028-10-15"},
		{"2025-12-31", 36, "2028-12-31"},
		{"not a date", 6, ""},
		{"", 6, ""},
	} {
		if got := AddMonths(tc.day, tc.months); got != tc.want {
			t.Errorf("AddMonths(%q, %d) = %q, want %q", tc.day, tc.months, got, tc.want)
		}
	}
}

func TestExpiryDate(t *testing.T) {
	t.Parallel()
	for issue, want := range map[string]string{
		"2026-01-15": "2029-01-15",
		"2024-02-29": "2027-02-28",
		"":           "",
		"2026-13-01": "",
	} {
		if got := ExpiryDate(issue); got != want {
			t.Errorf("ExpiryDate(%q) = %q, want %q", issue, got, want)
		}
	}
}

// dueDates renders a schedule as "kind#n@date status" lines for compact
// comparison.
func dueDates(items []ScheduleItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Kind + "@" + it.DueDate + " " + it.Status
		if it.Number > 0 {
			out[i] = it.Kind + "#" + string(rune('0'+it.Number)) + "@" + it.DueDate + " " + it.Status
		}
		if it.AuditRef != "" {
			out[i] += " " + it.AuditRef
		}
	}
	return out
}

func TestScheduleDates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		issue    string
		interval int
		today    string
		want     []string
	}{
		{"example 12 months", "2026-01-15", 12, "2026-02-01", []string{
			"surveillance#1@2027-01-15 missing",
			"surveillance#2@2028-01-15 missing",
			"recertification@2028-10-15 missing",
			"expiry@2029-01-15 valid",
		}},
		{"6 months", "2026-01-15", 6, "2026-02-01", []string{
			"surveillance#1@2026-07-15 missing",
			"surveillance#2@2027-01-15 missing",
			"surveillance#3@2027-07-15 missing",
			"surveillance#4@2028-01-15 missing",
			"surveillance#5@2028-07-15 missing",
			"recertification@2028-10-15 missing",
			"expiry@2029-01-15 valid",
		}},
		{"leap day 12 months", "2024-02-29", 12, "2024-03-01", []string{
			"surveillance#1@2025-02-28 missing",
			"surveillance#2@2026-02-28 missing",
			"recertification@2026-11-29 missing",
			"expiry@2027-02-28 valid",
		}},
		{"month end 6 months does not drift", "2023-08-31", 6, "2023-09-01", []string{
			"surveillance#1@2024-02-29 missing",
			"surveillance#2@2024-08-31 missing",
			"surveillance#3@2025-02-28 missing",
			"surveillance#4@2025-08-31 missing",
			"surveillance#5@2026-02-28 missing",
			"recertification@2026-05-31 missing",
			"expiry@2026-08-31 valid",
		}},
		{"interval 0 means 12", "2026-01-15", 0, "2026-02-01", []string{
			"surveillance#1@2027-01-15 missing",
			"surveillance#2@2028-01-15 missing",
			"recertification@2028-10-15 missing",
			"expiry@2029-01-15 valid",
		}},
		{"overdue and expired", "2020-03-01", 12, "2023-03-01", []string{
			"surveillance#1@2021-03-01 overdue",
			"surveillance#2@2022-03-01 overdue",
			"recertification@2022-12-01 overdue",
			"expiry@2023-03-01 expired",
		}},
		{"due today is missing, not overdue", "2026-01-15", 12, "2027-01-15", []string{
			"surveillance#1@2027-01-15 missing",
			"surveillance#2@2028-01-15 missing",
			"recertification@2028-10-15 missing",
			"expiry@2029-01-15 valid",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Certification{IssueDate: tc.issue, SurveillanceIntervalMonths: tc.interval}
			if got := dueDates(c.Schedule(nil, tc.today)); !slices.Equal(got, tc.want) {
				t.Errorf("schedule =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestScheduleWithoutIssueDate(t *testing.T) {
	t.Parallel()
	got := Certification{SurveillanceIntervalMonths: 12}.Schedule([]Audit{{ID: "a", Type: AuditSurveillance, PlannedStart: "2027-01-01"}}, "2026-01-01")
	if got == nil || len(got) != 0 {
		t.Fatalf("schedule = %#v, want a non-nil empty slice", got)
	}
	b, _ := json.Marshal(got)
	if string(b) != "[]" {
		t.Fatalf("json = %s, want []", b)
	}
}

func TestScheduleLinksAudits(t *testing.T) {
	t.Parallel()
	issued := time.Date(2027, 1, 20, 9, 0, 0, 0, time.UTC)
	c := Certification{IssueDate: "2026-01-15", SurveillanceIntervalMonths: 12}
	for _, tc := range []struct {
		name   string
		audits []Audit
		today  string
		want   []string
	}{
		{"done on time and planned", []Audit{
			{ID: "s2", Ref: "AUD-5", Type: AuditSurveillance, PlannedStart: "2027-12-01", PlannedEnd: "2027-12-03"},
			{ID: "s1", Ref: "AUD-3", Type: AuditSurveillance, PlannedStart: "2027-01-10", PlannedEnd: "2027-01-11", ActualStart: "2027-01-10", ActualEnd: "2027-01-11"},
			{ID: "r", Ref: "AUD-9", Type: AuditRecertification, PlannedStart: "2028-09-01", PlannedEnd: "2028-09-05"},
		}, "2027-06-01", []string{
			"surveillance#1@2027-01-15 done AUD-3",
			"surveillance#2@2028-01-15 planned AUD-5",
			"recertification@2028-10-15 planned AUD-9",
			"expiry@2029-01-15 valid",
		}},
		{"late", []Audit{
			{ID: "s1", Ref: "AUD-3", Type: AuditSurveillance, PlannedStart: "2027-01-10", ActualStart: "2027-01-10", ActualEnd: "2027-01-16"},
			{ID: "s2", Ref: "AUD-5", Type: AuditSurveillance, PlannedStart: "2028-01-14", PlannedEnd: "2028-01-16"},
			{ID: "r", Ref: "AUD-9", Type: AuditRecertification, PlannedStart: "2028-10-10", PlannedEnd: "2028-10-20"},
		}, "2027-06-01", []string{
			"surveillance#1@2027-01-15 done_late AUD-3",
			"surveillance#2@2028-01-15 planned_late AUD-5",
			"recertification@2028-10-15 planned_late AUD-9",
			"expiry@2029-01-15 valid",
		}},
		{"report issued counts as done on its day", []Audit{
			{ID: "s1", Ref: "AUD-3", Type: AuditSurveillance, PlannedStart: "2027-01-10", PlannedEnd: "2027-01-12", ReportIssuedAt: &issued},
		}, "2028-02-01", []string{
			"surveillance#1@2027-01-15 done_late AUD-3",
			"surveillance#2@2028-01-15 overdue",
			"recertification@2028-10-15 missing",
			"expiry@2029-01-15 valid",
		}},
		{"ignores other types and audits outside the cycle", []Audit{
			{ID: "old", Ref: "AUD-1", Type: AuditSurveillance, PlannedStart: "2025-06-01"},
			{ID: "int", Ref: "AUD-2", Type: AuditInternal, PlannedStart: "2026-12-01"},
			{ID: "late", Ref: "AUD-4", Type: AuditSurveillance, PlannedStart: "2029-01-15"},
			{ID: "r0", Ref: "AUD-6", Type: AuditRecertification, PlannedStart: "2025-12-01"},
		}, "2026-06-01", []string{
			"surveillance#1@2027-01-15 missing",
			"surveillance#2@2028-01-15 missing",
			"recertification@2028-10-15 missing",
			"expiry@2029-01-15 valid",
		}},
		{"first recertification wins, extra surveillance unlinked", []Audit{
			{ID: "r2", Ref: "AUD-8", Type: AuditRecertification, PlannedStart: "2028-10-01"},
			{ID: "r1", Ref: "AUD-7", Type: AuditRecertification, PlannedStart: "2028-09-01"},
			{ID: "s1", Ref: "AUD-3", Type: AuditSurveillance, PlannedStart: "2027-01-01"},
			{ID: "s2", Ref: "AUD-4", Type: AuditSurveillance, PlannedStart: "2027-06-01"},
			{ID: "s3", Ref: "AUD-5", Type: AuditSurveillance, PlannedStart: "2028-01-01"},
		}, "2026-06-01", []string{
			"surveillance#1@2027-01-15 planned AUD-3",
			"surveillance#2@2028-01-15 planned AUD-4",
			"recertification@2028-10-15 planned AUD-7",
			"expiry@2029-01-15 valid",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := dueDates(c.Schedule(tc.audits, tc.today)); !slices.Equal(got, tc.want) {
				t.Errorf("schedule =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestScheduleItemProblem(t *testing.T) {
	t.Parallel()
	for status, want := range map[string]bool{
		ScheduleDone: false, ScheduleDoneLate: true, SchedulePlanned: false, SchedulePlannedLate: true,
		ScheduleOverdue: true, ScheduleMissing: true, ScheduleValid: false, ScheduleExpired: true,
	} {
		if got := (ScheduleItem{Status: status}).Problem(); got != want {
			t.Errorf("Problem(%s) = %v, want %v", status, got, want)
		}
	}
}

func TestCertificationInputNormalize(t *testing.T) {
	t.Parallel()
	valid := CertificationInput{
		CertificationBody: "  Certifier Ltd ", CertificateNumber: "IS 123456", Scope: "All services",
		Stage1Date: "2025-10-01", Stage1Outcome: OutcomePassed, Stage2Date: "2025-12-01", Stage2Outcome: OutcomePassedWithFindings,
		IssueDate: "2026-01-15",
	}
	got, err := valid.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if got.CertificationBody != "Certifier Ltd" || got.SurveillanceIntervalMonths != 12 {
		t.Fatalf("normalized = %+v", got)
	}
	c := got.Certification(time.Date(2026, 1, 16, 0, 0, 0, 0, time.UTC))
	if c.ExpiryDate != "2029-01-15" || c.Input() != got {
		t.Fatalf("certification = %+v", c)
	}
	if _, err := (CertificationInput{}).Normalize(); err != nil {
		t.Fatalf("empty input: %v", err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*CertificationInput)
		field string
	}{
		{"bad stage1 date", func(in *CertificationInput) { in.Stage1Date = "2025-02-30" }, "stage1_date"},
		{"bad stage2 date", func(in *CertificationInput) { in.Stage2Date = "01/12/2025" }, "stage2_date"},
		{"bad issue date", func(in *CertificationInput) { in.IssueDate = "soon" }, "issue_date"},
		{"stage2 before stage1", func(in *CertificationInput) { in.Stage2Date = "2025-09-30" }, "stage2_date"},
		{"issue before stage2", func(in *CertificationInput) { in.IssueDate = "2025-11-30" }, "issue_date"},
		{"interval 3", func(in *CertificationInput) { in.SurveillanceIntervalMonths = 3 }, "surveillance_interval_months"},
		{"interval negative", func(in *CertificationInput) { in.SurveillanceIntervalMonths = -12 }, "surveillance_interval_months"},
		{"bad stage1 outcome", func(in *CertificationInput) { in.Stage1Outcome = "ok" }, "stage1_outcome"},
		{"bad stage2 outcome", func(in *CertificationInput) { in.Stage2Outcome = "PASSED" }, "stage2_outcome"},
		{"outcome without date", func(in *CertificationInput) { in.Stage1Date = ""; in.Stage2Outcome = "" }, "stage1_date"},
		{"long body", func(in *CertificationInput) { in.CertificationBody = strings.Repeat("b", 201) }, "certification_body"},
		{"long number", func(in *CertificationInput) { in.CertificateNumber = strings.Repeat("9", 201) }, "certificate_number"},
		{"long scope", func(in *CertificationInput) { in.Scope = strings.Repeat("s", 20001) }, "scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := valid
			tc.edit(&in)
			_, err := in.Normalize()
			if ErrorCode(err) != EInvalid {
				t.Fatalf("err = %v, want invalid", err)
			}
			if f := err.(*Error).Fields; len(f) != 1 || f[0].Field != tc.field {
				t.Fatalf("fields = %+v, want %s", f, tc.field)
			}
		})
	}
}

func TestCertificationJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Certification{})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"certificate_number", "certification_body", "expiry_date", "issue_date", "scope", "stage1_date", "stage1_outcome", "stage2_date", "stage2_outcome", "surveillance_interval_months", "updated_at"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys = %v, want %v", keys, want)
	}
}
