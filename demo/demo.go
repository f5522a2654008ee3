// Package demo fills an empty store with a sample organisation, so a new
// installation has something to show. It never touches a store that holds
// data.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
)

// OrgName is the demo organisation.
const OrgName = "Acme Ltd"

// People are the demo members, one per role.
var People = []struct {
	Email, Name string
	Role        vigil.Role
}{
	{"admin@acme.test", "Ada Admin", vigil.RoleAdmin},
	{"isms@acme.test", "Ian Manager", vigil.RoleISMSManager},
	{"risk@acme.test", "Rita Owner", vigil.RoleRiskOwner},
	{"auditor@acme.test", "Ines Auditor", vigil.RoleInternalAuditor},
	{"external@acme.test", "Ed External", vigil.RoleExternalAuditor},
	{"employee@acme.test", "Emma Employee", vigil.RoleEmployee},
	{"viewer@acme.test", "Vic Viewer", vigil.RoleViewer},
}

// Result says what Seed did.
type Result struct {
	Created  bool   // false: the store already had data and was left alone
	OrgID    string // the demo organisation, when created
	Email    string // the admin's email
	Password string // the password every demo person got, when created
}

// Seed creates the demo organisation and its people if the store is empty.
func Seed(ctx context.Context, st *store.Store) (Result, error) {
	ctx = vigil.WithActor(ctx, vigil.SystemActor("demo"))
	n, err := st.CountOrgs(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("count organisations: %w", err)
	}
	if n > 0 {
		return Result{Email: People[0].Email}, nil
	}
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return Result{}, err
	}
	pw := base64.RawURLEncoding.EncodeToString(b)
	org, err := st.CreateOrg(ctx, OrgName)
	if err != nil {
		return Result{}, fmt.Errorf("create demo organisation: %w", err)
	}
	people := map[vigil.Role]string{}
	for _, p := range People {
		m, err := st.AddMember(ctx, org.ID, vigil.NewMember{Email: p.Email, Name: p.Name, Role: p.Role, Password: pw})
		if err != nil {
			return Result{}, fmt.Errorf("add demo member %s: %w", p.Email, err)
		}
		people[p.Role] = m.ID
	}
	// Each area adds its own sample data; together they make a half-ready
	// ISMS whose readiness checklist explains what is missing.
	for _, seed := range []func(context.Context, *store.Store, string, map[vigil.Role]string) error{
		seedScope, seedAssetsRisks, seedPolicies, seedTraining, seedEvidence, seedSuppliers, seedSessions, seedAudits, seedDetection,
	} {
		if err := seed(ctx, st, org.ID, people); err != nil {
			return Result{}, fmt.Errorf("demo data: %w", err)
		}
	}
	return Result{Created: true, OrgID: org.ID, Email: People[0].Email, Password: pw}, nil
}
