package vigil

import (
	"cmp"
	"slices"
	"time"
)

// CertificateValidityMonths is how long an ISO/IEC 27001 certificate is
// valid from its issue date.
const CertificateValidityMonths = 36

// RecertificationLeadMonths is how long before expiry the recertification
// audit is due: the certification body needs the time between the audit
// and expiry to close findings and decide, so that the new certificate is
// issued before the old one lapses.
const RecertificationLeadMonths = 3

// AuditOutcome is the certification body's verdict on a stage 1 or stage 2
// audit. Empty means the audit has no verdict yet.
type AuditOutcome string

// The verdicts a certification body gives.
const (
	OutcomePending            AuditOutcome = ""
	OutcomePassed             AuditOutcome = "passed"
	OutcomePassedWithFindings AuditOutcome = "passed_with_findings"
	OutcomeFailed             AuditOutcome = "failed"
)

// AuditOutcomes lists the verdicts that may be recorded.
var AuditOutcomes = []AuditOutcome{OutcomePassed, OutcomePassedWithFindings, OutcomeFailed}

// Certification is the organisation's external certification cycle: the
// two initial audits, the certificate, and the surveillance interval that
// sets when the certification body comes back.
type Certification struct {
	CertificationBody string       `json:"certification_body"`
	CertificateNumber string       `json:"certificate_number"`
	Scope             string       `json:"scope"`
	Stage1Date        string       `json:"stage1_date"` // YYYY-MM-DD or ""
	Stage1Outcome     AuditOutcome `json:"stage1_outcome"`
	Stage2Date        string       `json:"stage2_date"` // YYYY-MM-DD or ""
	Stage2Outcome     AuditOutcome `json:"stage2_outcome"`
	IssueDate         string       `json:"issue_date"` // YYYY-MM-DD or ""
	// ExpiryDate follows from IssueDate (see ExpiryDate) and is never set
	// by hand.
	ExpiryDate                 string    `json:"expiry_date"`
	SurveillanceIntervalMonths int       `json:"surveillance_interval_months"` // 6 or 12
	UpdatedAt                  time.Time `json:"updated_at"`
}

// Input returns the changeable fields of c.
func (c Certification) Input() CertificationInput {
	return CertificationInput{
		CertificationBody: c.CertificationBody, CertificateNumber: c.CertificateNumber, Scope: c.Scope,
		Stage1Date: c.Stage1Date, Stage1Outcome: c.Stage1Outcome, Stage2Date: c.Stage2Date, Stage2Outcome: c.Stage2Outcome,
		IssueDate: c.IssueDate, SurveillanceIntervalMonths: c.SurveillanceIntervalMonths,
	}
}

// CertificationInput sets the certification cycle.
type CertificationInput struct {
	CertificationBody          string       `json:"certification_body"`
	CertificateNumber          string       `json:"certificate_number"`
	Scope                      string       `json:"scope"`
	Stage1Date                 string       `json:"stage1_date"`
	Stage1Outcome              AuditOutcome `json:"stage1_outcome"`
	Stage2Date                 string       `json:"stage2_date"`
	Stage2Outcome              AuditOutcome `json:"stage2_outcome"`
	IssueDate                  string       `json:"issue_date"`
	SurveillanceIntervalMonths int          `json:"surveillance_interval_months"`
}

// Normalize trims and checks a certification. The steps must come in order
// (stage 1, stage 2, issue), a verdict needs the date of its audit, and the
// interval defaults to the usual yearly surveillance.
func (in CertificationInput) Normalize() (CertificationInput, error) {
	var err error
	if in.CertificationBody, err = registerText("certification_body", in.CertificationBody, registerMaxTitle); err != nil {
		return in, err
	}
	if in.CertificateNumber, err = registerText("certificate_number", in.CertificateNumber, registerMaxTitle); err != nil {
		return in, err
	}
	if in.Scope, err = registerText("scope", in.Scope, registerMaxText); err != nil {
		return in, err
	}
	for _, d := range []struct {
		field string
		v     *string
	}{{"stage1_date", &in.Stage1Date}, {"stage2_date", &in.Stage2Date}, {"issue_date", &in.IssueDate}} {
		if *d.v, err = ParseDateField(d.field, *d.v); err != nil {
			return in, err
		}
	}
	for _, o := range []struct {
		field, dateField string
		v                AuditOutcome
		date             string
	}{{"stage1_outcome", "stage1_date", in.Stage1Outcome, in.Stage1Date}, {"stage2_outcome", "stage2_date", in.Stage2Outcome, in.Stage2Date}} {
		if o.v != OutcomePending && !slices.Contains(AuditOutcomes, o.v) {
			return in, Invalid(o.field, "must be passed, passed_with_findings, failed or empty")
		}
		if o.v != OutcomePending && o.date == "" {
			return in, Invalid(o.dateField, "must be set when %s is", o.field)
		}
	}
	if in.Stage1Date != "" && in.Stage2Date != "" && in.Stage2Date < in.Stage1Date {
		return in, Invalid("stage2_date", "must not be before stage1_date (%s)", in.Stage1Date)
	}
	if in.Stage2Date != "" && in.IssueDate != "" && in.IssueDate < in.Stage2Date {
		return in, Invalid("issue_date", "must not be before stage2_date (%s)", in.Stage2Date)
	}
	if in.SurveillanceIntervalMonths == 0 {
		in.SurveillanceIntervalMonths = 12
	}
	if in.SurveillanceIntervalMonths != 6 && in.SurveillanceIntervalMonths != 12 {
		return in, Invalid("surveillance_interval_months", "must be 6 or 12")
	}
	return in, nil
}

// Certification returns the certification that in describes, with its
// expiry computed; in should be normalized first.
func (in CertificationInput) Certification(updatedAt time.Time) Certification {
	return Certification{
		CertificationBody: in.CertificationBody, CertificateNumber: in.CertificateNumber, Scope: in.Scope,
		Stage1Date: in.Stage1Date, Stage1Outcome: in.Stage1Outcome, Stage2Date: in.Stage2Date, Stage2Outcome: in.Stage2Outcome,
		IssueDate: in.IssueDate, ExpiryDate: ExpiryDate(in.IssueDate),
		SurveillanceIntervalMonths: in.SurveillanceIntervalMonths, UpdatedAt: updatedAt,
	}
}

// ExpiryDate returns the day a certificate issued on issue (YYYY-MM-DD)
// expires, three years later; "" when issue is not a date.
func ExpiryDate(issue string) string {
	return AddMonths(issue, CertificateValidityMonths)
}

// AddMonths moves a date by months, clamping to the end of a shorter month
// (2024-08-31 + 6 months = 2025-02-28); "" when day is not a date.
func AddMonths(day string, months int) string {
	d, err := AddInterval(day, months)
	if err != nil {
		return ""
	}
	return d
}

// The kinds of item on a certification schedule.
const (
	ScheduleSurveillance    = "surveillance"
	ScheduleRecertification = "recertification"
	ScheduleExpiry          = "expiry"
)

// The statuses of a schedule item.
const (
	// ScheduleDone: the linked audit was carried out on or before the due date.
	ScheduleDone = "done"
	// ScheduleDoneLate: the linked audit was carried out after the due date.
	ScheduleDoneLate = "done_late"
	// SchedulePlanned: an audit is planned to end on or before the due date.
	SchedulePlanned = "planned"
	// SchedulePlannedLate: the planned audit ends after the due date.
	SchedulePlannedLate = "planned_late"
	// ScheduleOverdue: the due date has passed with no audit.
	ScheduleOverdue = "overdue"
	// ScheduleMissing: no audit is planned yet for a date still to come.
	ScheduleMissing = "missing"
	// ScheduleValid: the certificate has not expired.
	ScheduleValid = "valid"
	// ScheduleExpired: the certificate has expired.
	ScheduleExpired = "expired"
)

// ScheduleItem is one date of the certification cycle and the audit that
// meets it, if any.
type ScheduleItem struct {
	Kind     string `json:"kind"`      // surveillance, recertification, expiry
	Number   int    `json:"number"`    // 1.. for surveillance, 0 otherwise
	DueDate  string `json:"due_date"`  // YYYY-MM-DD
	Audit    string `json:"audit"`     // linked audit id, ""
	AuditRef string `json:"audit_ref"` // linked audit ref, ""
	Status   string `json:"status"`
}

// Problem reports whether the item needs attention.
func (s ScheduleItem) Problem() bool {
	switch s.Status {
	case ScheduleMissing, ScheduleOverdue, SchedulePlannedLate, ScheduleDoneLate, ScheduleExpired:
		return true
	}
	return false
}

// Schedule lists the surveillance audits, the recertification audit and
// the expiry of the certificate, each linked to the audit that meets it,
// with its status on day today (YYYY-MM-DD). Every due date is counted from
// the issue date (issue + k×interval) rather than from the previous one, so
// clamping at a month's end never makes later dates drift. Surveillance
// audits fall strictly before expiry; the recertification audit is due
// three months before expiry so that the new certificate can be issued in
// time. Without an issue date the schedule is empty.
func (c Certification) Schedule(audits []Audit, today string) []ScheduleItem {
	items := []ScheduleItem{}
	expiry := ExpiryDate(c.IssueDate)
	if expiry == "" {
		return items
	}
	interval := c.SurveillanceIntervalMonths
	if interval != 6 && interval != 12 {
		interval = 12
	}
	sorted := slices.Clone(audits)
	slices.SortStableFunc(sorted, func(a, b Audit) int {
		return cmp.Or(cmp.Compare(a.PlannedStart, b.PlannedStart), cmp.Compare(a.ID, b.ID))
	})
	var surveillance []Audit
	var recert *Audit
	for i, a := range sorted {
		switch {
		case a.Type == AuditSurveillance && a.PlannedStart >= c.IssueDate && a.PlannedStart < expiry:
			surveillance = append(surveillance, a)
		case a.Type == AuditRecertification && a.PlannedStart >= c.IssueDate && recert == nil:
			recert = &sorted[i]
		}
	}
	for k := 1; ; k++ {
		due := AddMonths(c.IssueDate, k*interval)
		if due == "" || due >= expiry {
			break
		}
		var a *Audit
		if k <= len(surveillance) {
			a = &surveillance[k-1]
		}
		items = append(items, scheduleItem(ScheduleSurveillance, k, due, a, today))
	}
	items = append(items, scheduleItem(ScheduleRecertification, 0, AddMonths(c.IssueDate, CertificateValidityMonths-RecertificationLeadMonths), recert, today))
	status := ScheduleValid
	if today >= expiry {
		status = ScheduleExpired
	}
	return append(items, ScheduleItem{Kind: ScheduleExpiry, DueDate: expiry, Status: status})
}

// scheduleItem links audit a (nil for none) to a due date and judges it.
func scheduleItem(kind string, number int, due string, a *Audit, today string) ScheduleItem {
	it := ScheduleItem{Kind: kind, Number: number, DueDate: due}
	if a == nil {
		it.Status = ScheduleMissing
		if due < today {
			it.Status = ScheduleOverdue
		}
		return it
	}
	it.Audit, it.AuditRef = a.ID, a.Ref
	switch {
	case a.Done():
		done := a.ActualEnd
		if done == "" {
			done = DayOf(*a.ReportIssuedAt)
		}
		it.Status = ScheduleDone
		if done > due {
			it.Status = ScheduleDoneLate
		}
	default:
		end := cmp.Or(a.PlannedEnd, a.PlannedStart)
		it.Status = SchedulePlanned
		if end > due {
			it.Status = SchedulePlannedLate
		}
	}
	return it
}
