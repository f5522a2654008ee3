package vigil

import "slices"

// Role is what a member may do within one organisation.
type Role string

// The roles of DESIGN.md. RoleAgent is the machine identity of endpoint agents.
const (
	RoleAdmin           Role = "admin"
	RoleISMSManager     Role = "isms_manager"
	RoleRiskOwner       Role = "risk_owner"
	RoleInternalAuditor Role = "internal_auditor"
	RoleExternalAuditor Role = "external_auditor"
	RoleEmployee        Role = "employee"
	RoleViewer          Role = "viewer"
	RoleAgent           Role = "agent"
)

// Roles lists every role, people's roles first.
var Roles = []Role{RoleAdmin, RoleISMSManager, RoleRiskOwner, RoleInternalAuditor, RoleExternalAuditor, RoleEmployee, RoleViewer, RoleAgent}

// MemberRoles lists the roles a person can hold (all but the agent identity).
var MemberRoles = Roles[:len(Roles)-1]

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return slices.Contains(Roles, r)
}

// ValidMemberRole reports whether r can be given to a person.
func (r Role) ValidMemberRole() bool {
	return slices.Contains(MemberRoles, r)
}

// ParseMemberRole checks a role given for a person.
func ParseMemberRole(s string) (Role, error) {
	r := Role(s)
	if !r.ValidMemberRole() {
		return "", Invalid("role", "unknown role %q", s)
	}
	return r, nil
}
