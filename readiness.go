package vigil

import (
	"fmt"
	"strings"
	"time"
)

// Readiness check ids, in the order they are shown. They are a contract:
// pipelines gate on them.
const (
	CheckScope             = "scope"
	CheckAssets            = "assets"
	CheckRiskAssessment    = "risk_assessment"
	CheckRiskTreatment     = "risk_treatment"
	CheckSoA               = "soa"
	CheckPolicies          = "policies"
	CheckTraining          = "training"
	CheckDocumentation     = "documentation"
	CheckInternalAudit     = "internal_audit"
	CheckCorrectiveActions = "corrective_actions"
	CheckManagementReview  = "management_review"
)

// ReadinessCheckIDs lists every check id in display order.
var ReadinessCheckIDs = []string{CheckScope, CheckAssets, CheckRiskAssessment, CheckRiskTreatment, CheckSoA,
	CheckPolicies, CheckTraining, CheckDocumentation, CheckInternalAudit, CheckCorrectiveActions, CheckManagementReview}

// TrainingCoverageTarget is the share of assigned people who must have
// completed their training, in percent.
const TrainingCoverageTarget = 90

// ReadinessCheck is one item of the certification-readiness checklist,
// computed from the data, never ticked by hand.
type ReadinessCheck struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Passed bool   `json:"passed"`
	// Detail says what is missing (or what was found when it passed).
	Detail string `json:"detail"`
	// Link is the UI page where the item is fixed.
	Link string `json:"-"`
}

// Readiness is the checklist and its summary.
type Readiness struct {
	Ready  bool             `json:"ready"`
	Score  int              `json:"score"` // 0-100: the share of checks passed
	Checks []ReadinessCheck `json:"checks"`
	// Monitoring says whether the monitoring half produces evidence now;
	// it informs the checks' reader and does not change the score.
	Monitoring *MonitoringStatus `json:"monitoring,omitempty"`
}

// MonitoringLiveWindow is how recent a host's heartbeat must be for the
// host to count as reporting.
const MonitoringLiveWindow = 10 * time.Minute

// MonitoringStatus is the evidence the monitoring half produces for
// A.8.15, A.8.16 and A.5.24-5.28: hosts reporting, rules enabled, alerts
// raised and delivered, incidents handled.
type MonitoringStatus struct {
	Live           bool   `json:"live"` // hosts report, rules are enabled and a channel delivers
	HostsReporting int    `json:"hosts_reporting"`
	Hosts          int    `json:"hosts"`
	RulesEnabled   int    `json:"rules_enabled"`
	Channels       int    `json:"channels"`
	Alerts30d      int    `json:"alerts_30d"`
	OpenAlerts     int    `json:"open_alerts"`
	Incidents      int    `json:"incidents"`
	Detail         string `json:"detail"`
}

// NewReadiness summarises checks: ready when every check passed; the score
// is the percentage of checks passed, rounded to the nearest whole number.
func NewReadiness(checks []ReadinessCheck) Readiness {
	passed := 0
	for _, c := range checks {
		if c.Passed {
			passed++
		}
	}
	r := Readiness{Checks: checks, Ready: len(checks) > 0 && passed == len(checks)}
	if len(checks) > 0 {
		r.Score = (passed*200 + len(checks)) / (2 * len(checks))
	}
	return r
}

// CountedRefs renders "3 assets without a risk: AST-4, AST-9, AST-12":
// total things counted, of which refs are the first few to name (the rest
// are summed up as "and N more"); one and many are the singular and plural
// of what is counted.
func CountedRefs(one, many string, total int, refs []string) string {
	var b strings.Builder
	what := many
	if total == 1 {
		what = one
	}
	fmt.Fprintf(&b, "%d %s", total, what)
	if len(refs) == 0 {
		return b.String()
	}
	b.WriteString(": ")
	b.WriteString(strings.Join(refs, ", "))
	if n := total - len(refs); n > 0 {
		fmt.Fprintf(&b, " and %d more", n)
	}
	return b.String()
}

// DocumentStatus is one line of the documents register: a piece of
// mandatory documented information, where it lives in Vigil and whether the
// organisation has it.
type DocumentStatus struct {
	ID       string `json:"id"`
	Clause   string `json:"clause"`
	Name     string `json:"name"`
	Location string `json:"location"`
	Link     string `json:"link"`
	Present  bool   `json:"present"`
}
