package vigil

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// PolicyKind says which policy of the ISMS a document is, so that questions
// such as "is the access-control policy approved?" need no text matching.
type PolicyKind string

// The kinds of policy. The information-security policy (clause 5.2) and the
// six topic-specific policies the certification guide names have their own
// kind; everything else is "other".
const (
	PolicyInformationSecurity PolicyKind = "information_security"
	PolicyAccessControl       PolicyKind = "access_control"
	PolicyConfidentiality     PolicyKind = "confidentiality"
	PolicyIntegrity           PolicyKind = "integrity"
	PolicyAvailability        PolicyKind = "availability"
	PolicyIncidentResponse    PolicyKind = "incident_response"
	PolicySupplierSecurity    PolicyKind = "supplier_security"
	PolicyOther               PolicyKind = "other"
)

// PolicyKinds lists every kind, required ones first.
var PolicyKinds = []PolicyKind{PolicyInformationSecurity, PolicyAccessControl, PolicyConfidentiality, PolicyIntegrity,
	PolicyAvailability, PolicyIncidentResponse, PolicySupplierSecurity, PolicyOther}

// RequiredPolicyKinds are the policies a certification audit expects to find
// approved and within their review date: the information-security policy
// and the six named topic-specific policies.
var RequiredPolicyKinds = PolicyKinds[:7]

// Valid reports whether k is a known kind.
func (k PolicyKind) Valid() bool { return slices.Contains(PolicyKinds, k) }

// Label is the kind as people read it.
func (k PolicyKind) Label() string {
	switch k {
	case PolicyInformationSecurity:
		return "Information security"
	case PolicyAccessControl:
		return "Access control"
	case PolicyConfidentiality:
		return "Confidentiality"
	case PolicyIntegrity:
		return "Integrity"
	case PolicyAvailability:
		return "Availability of information assets"
	case PolicyIncidentResponse:
		return "Incident response"
	case PolicySupplierSecurity:
		return "Supplier security"
	case PolicyOther:
		return "Other"
	}
	return string(k)
}

// PolicyStatus is where a policy's working revision stands.
type PolicyStatus string

// The statuses of a policy revision: draft → in_review → approved → retired.
const (
	PolicyDraft    PolicyStatus = "draft"
	PolicyInReview PolicyStatus = "in_review"
	PolicyApproved PolicyStatus = "approved"
	PolicyRetired  PolicyStatus = "retired"
)

// PolicyStatuses lists the statuses in workflow order.
var PolicyStatuses = []PolicyStatus{PolicyDraft, PolicyInReview, PolicyApproved, PolicyRetired}

// Valid reports whether s is a known status.
func (s PolicyStatus) Valid() bool { return slices.Contains(PolicyStatuses, s) }

// Label is the status as people read it.
func (s PolicyStatus) Label() string {
	if s == PolicyInReview {
		return "in review"
	}
	return string(s)
}

// PolicyFile describes a document uploaded for a policy revision; the bytes
// are stored content-addressed like evidence.
type PolicyFile struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

// Policy is a versioned ISMS document, cited as POL-n. Its fields describe
// the working revision (Version); CurrentVersion is the approved version in
// force, the one people acknowledge. While a revision of an approved policy
// is in draft or in review, CurrentVersion stays at the previous number.
type Policy struct {
	ID             string       `json:"id"`
	Ref            string       `json:"ref"`
	Title          string       `json:"title"`
	Kind           PolicyKind   `json:"kind"`
	Owner          string       `json:"owner"`    // user id
	Approver       string       `json:"approver"` // user id
	Author         string       `json:"author"`   // user id of who created or last revised it; "" for the system
	Status         PolicyStatus `json:"status"`
	Version        int          `json:"version"`
	Body           string       `json:"body"` // Markdown
	File           *PolicyFile  `json:"file"`
	ApprovedAt     *time.Time   `json:"approved_at"`
	ApprovedBy     string       `json:"approved_by"`
	NextReview     string       `json:"next_review"` // YYYY-MM-DD or ""
	CurrentVersion *int         `json:"current_version"`
	// ReviewOverdue is computed: the version in force is past its next
	// review date.
	ReviewOverdue bool      `json:"review_overdue"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// InForce reports whether the policy has an approved version people must
// follow and acknowledge.
func (p Policy) InForce() bool {
	return p.CurrentVersion != nil && p.Status != PolicyRetired
}

// PolicyVersion is an approved revision of a policy, kept readable for as
// long as the policy exists.
type PolicyVersion struct {
	PolicyID   string      `json:"policy_id"`
	Version    int         `json:"version"`
	Title      string      `json:"title"`
	Kind       PolicyKind  `json:"kind"`
	Body       string      `json:"body"`
	File       *PolicyFile `json:"file"`
	Owner      string      `json:"owner"`
	Author     string      `json:"author"`
	ApprovedBy string      `json:"approved_by"`
	ApprovedAt time.Time   `json:"approved_at"`
	NextReview string      `json:"next_review"`
	Current    bool        `json:"current"`
}

// Limits of policy fields.
const (
	policyMaxTitle = 200
	// PolicyMaxBody bounds a policy's Markdown text (256 KiB).
	PolicyMaxBody = 256 << 10
)

// PolicyInput creates a policy. Owner and Approver are members' user ids or
// emails; the author is whoever creates it.
type PolicyInput struct {
	Title      string     `json:"title"`
	Kind       PolicyKind `json:"kind"`
	Owner      string     `json:"owner"`
	Approver   string     `json:"approver"`
	Body       string     `json:"body"`
	NextReview string     `json:"next_review"`
}

// Normalize trims and checks a policy's own fields (people are checked
// against the organisation by the store).
func (in PolicyInput) Normalize() (PolicyInput, error) {
	var err error
	if in.Title, err = policyText("title", in.Title, policyMaxTitle, true); err != nil {
		return in, err
	}
	if in.Kind == "" {
		in.Kind = PolicyOther
	}
	if !in.Kind.Valid() {
		return in, Invalid("kind", "must be one of %s", joinKinds(PolicyKinds))
	}
	in.Body = strings.TrimSpace(strings.ReplaceAll(in.Body, "\r\n", "\n"))
	if len(in.Body) > PolicyMaxBody {
		return in, Invalid("body", "must be at most %d bytes", PolicyMaxBody)
	}
	if !utf8.ValidString(in.Body) {
		return in, Invalid("body", "must be UTF-8 text")
	}
	in.Owner, in.Approver = strings.TrimSpace(in.Owner), strings.TrimSpace(in.Approver)
	if in.NextReview, err = ParseDateField("next_review", in.NextReview); err != nil {
		return in, err
	}
	return in, nil
}

// Input returns the editable fields of p.
func (p Policy) Input() PolicyInput {
	return PolicyInput{Title: p.Title, Kind: p.Kind, Owner: p.Owner, Approver: p.Approver, Body: p.Body, NextReview: p.NextReview}
}

// PolicyUpdate changes a policy; nil fields stay as they are. Changing the
// title, kind or body of an approved policy starts a new draft revision;
// owner, approver and next_review are metadata and change in place.
type PolicyUpdate struct {
	Title      *string     `json:"title"`
	Kind       *PolicyKind `json:"kind"`
	Owner      *string     `json:"owner"`
	Approver   *string     `json:"approver"`
	Body       *string     `json:"body"`
	NextReview *string     `json:"next_review"`
}

// Apply returns in with the set fields of u.
func (u PolicyUpdate) Apply(in PolicyInput) PolicyInput {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&in.Title, u.Title)
	set(&in.Owner, u.Owner)
	set(&in.Approver, u.Approver)
	set(&in.Body, u.Body)
	set(&in.NextReview, u.NextReview)
	if u.Kind != nil {
		in.Kind = *u.Kind
	}
	return in
}

// SameContent reports whether two normalized inputs have the same text:
// title, kind and body, the parts an approval covers.
func (in PolicyInput) SameContent(other PolicyInput) bool {
	return in.Title == other.Title && in.Kind == other.Kind && in.Body == other.Body
}

// PolicyFilter narrows a policy listing. Empty fields match everything.
type PolicyFilter struct {
	Status PolicyStatus
	Kind   PolicyKind
	// UnacknowledgedBy lists only policies in force whose current version
	// this user has not acknowledged.
	UnacknowledgedBy string
	After            string // id cursor
	Limit            int
}

// PolicyAcknowledgement records that a person read a version of a policy.
type PolicyAcknowledgement struct {
	PolicyID       string    `json:"policy_id"`
	Version        int       `json:"version"`
	UserID         string    `json:"user_id"`
	Email          string    `json:"email"`
	Name           string    `json:"name"`
	AcknowledgedAt time.Time `json:"acknowledged_at"`
}

// PolicyPerson is a member who still has to acknowledge a policy.
type PolicyPerson struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
	Role   Role   `json:"role"`
}

// PolicyAcknowledgements lists who has and who has not acknowledged the
// current version of a policy. Version is 0 when no version is in force.
type PolicyAcknowledgements struct {
	PolicyID     string                  `json:"policy_id"`
	Version      int                     `json:"version"`
	Acknowledged []PolicyAcknowledgement `json:"acknowledged"`
	Pending      []PolicyPerson          `json:"pending"`
}

// PolicyKindState says whether one required kind of policy is in order:
// approved (a version is in force) and within its review date.
type PolicyKindState struct {
	Kind       PolicyKind `json:"kind"`
	PolicyID   string     `json:"policy_id"` // "" when the organisation has none of this kind
	Ref        string     `json:"ref"`
	Approved   bool       `json:"approved"`
	NextReview string     `json:"next_review"`
	// Current is Approved and not past the review date.
	Current bool `json:"current"`
}

// MayAcknowledge reports whether a role acknowledges policies: everyone who
// works for the organisation, not its external auditors.
func (r Role) MayAcknowledge() bool {
	return r.ValidMemberRole() && r != RoleExternalAuditor
}

// CheckPolicyTransition checks moving a policy from one status to another.
// inForce says an earlier version is approved, which lets a pending
// revision be abandoned by retiring the policy.
func CheckPolicyTransition(from, to PolicyStatus, inForce bool) error {
	ok := false
	switch to {
	case PolicyInReview:
		ok = from == PolicyDraft
	case PolicyDraft:
		ok = from == PolicyInReview
	case PolicyApproved:
		ok = from == PolicyInReview
	case PolicyRetired:
		ok = from == PolicyApproved || (inForce && (from == PolicyDraft || from == PolicyInReview))
	}
	if !ok {
		return Invalid("status", "a policy cannot move from %s to %s", from, to)
	}
	return nil
}

// policyText trims a text field and checks its length.
func policyText(field, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", Invalid(field, "must not be empty")
	}
	if utf8.RuneCountInString(s) > max {
		return "", Invalid(field, "must be at most %d characters", max)
	}
	return s, nil
}

func joinKinds[T ~string](ks []T) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = string(k)
	}
	return strings.Join(parts, ", ")
}

// ParseDateField checks an optional calendar date given as YYYY-MM-DD and
// returns it trimmed ("" stays "").
func ParseDateField(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Format(time.DateOnly) != s {
		return "", Invalid(field, "must be a date such as 2026-01-31")
	}
	return s, nil
}

// DayOf returns the UTC calendar date of t as YYYY-MM-DD, the form dates
// are stored and compared in.
func DayOf(t time.Time) string {
	return t.UTC().Format(time.DateOnly)
}

// AddInterval moves a YYYY-MM-DD date by months, keeping the day where the
// month allows (31 January + 1 month = 28 or 29 February).
func AddInterval(day string, months int) (string, error) {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return "", fmt.Errorf("parse date %q: %w", day, err)
	}
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), nil
}
