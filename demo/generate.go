package demo

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/catalog"
	"github.com/vigilhq/vigil/store"
)

// GenerateOptions size the data Generate makes.
type GenerateOptions struct {
	Assets int
	Risks  int
	// Progress receives a line now and then; nil for none.
	Progress io.Writer
	// Seed makes the data reproducible.
	Seed uint64
}

// GenerateResult counts what Generate made.
type GenerateResult struct {
	Assets, Risks, Decisions int
}

var (
	assetNouns = []string{"Customer database", "Payroll system", "Build server", "Laptop fleet", "VPN gateway", "HR records",
		"Source code repository", "Backup appliance", "Office network", "CRM", "Data warehouse", "Mail service", "Firewall",
		"Payment gateway", "Ticketing system", "Identity provider", "Wiki", "Logging cluster", "Kubernetes cluster", "Object storage"}
	assetTypes  = []vigil.AssetType{vigil.AssetInformation, vigil.AssetSoftware, vigil.AssetHardware, vigil.AssetService, vigil.AssetPeople, vigil.AssetSite}
	classes     = []vigil.Classification{vigil.ClassPublic, vigil.ClassInternal, vigil.ClassConfidential, vigil.ClassRestricted}
	locations   = []string{"Berlin office", "Lyon office", "AWS eu-central-1", "Azure West Europe", "Data centre DC2", "Remote"}
	threats     = []string{"Ransomware", "Credential stuffing", "Insider data theft", "Supplier breach", "Hardware failure", "Misconfiguration", "Phishing", "DDoS", "Lost device", "Privilege misuse"}
	weaknesses  = []string{"unpatched software", "weak passwords", "no MFA", "flat network", "no offsite backup", "excessive privileges", "missing logging", "no encryption at rest", "untested recovery", "shared accounts"}
	treatments  = []vigil.RiskTreatment{vigil.TreatModify, vigil.TreatModify, vigil.TreatModify, vigil.TreatRetain, vigil.TreatShare, vigil.TreatAvoid}
	riskOwners  = []vigil.Role{vigil.RoleRiskOwner, vigil.RoleISMSManager, vigil.RoleAdmin}
	assetOwners = []vigil.Role{vigil.RoleAdmin, vigil.RoleISMSManager, vigil.RoleRiskOwner, vigil.RoleEmployee}
)

// Generate fills an organisation with realistic assets, risks and SoA
// decisions for load tests. Everything goes through the store's normal
// methods, so the trail records it like any other change. Owners are taken
// from the organisation's members by role, falling back to any member.
func Generate(ctx context.Context, st *store.Store, orgID string, o GenerateOptions) (GenerateResult, error) {
	ctx = vigil.WithActor(ctx, vigil.SystemActor("demo-generate"))
	var res GenerateResult
	members, err := st.ListMembers(ctx, orgID, "", 1000)
	if err != nil {
		return res, err
	}
	if len(members) == 0 {
		return res, vigil.Errorf(vigil.EInvalid, "the organisation has no members to own the data: add one first")
	}
	byRole := map[vigil.Role][]string{}
	for _, m := range members {
		byRole[m.Role] = append(byRole[m.Role], m.ID)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x76696769))
	pick := func(roles []vigil.Role) string {
		r := roles[rng.IntN(len(roles))]
		if ids := byRole[r]; len(ids) > 0 {
			return ids[rng.IntN(len(ids))]
		}
		return members[rng.IntN(len(members))].ID
	}
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format+"\n", args...)
		}
	}
	level := func(n int) *int { return &n }

	assetIDs := make([]string, 0, o.Assets)
	for i := range o.Assets {
		a, err := st.CreateAsset(ctx, orgID, vigil.AssetInput{
			Name:            fmt.Sprintf("%s %05d", assetNouns[i%len(assetNouns)], i+1),
			Type:            assetTypes[rng.IntN(len(assetTypes))],
			Owner:           pick(assetOwners),
			Classification:  classes[rng.IntN(len(classes))],
			Confidentiality: level(1 + rng.IntN(3)),
			Integrity:       level(1 + rng.IntN(3)),
			Availability:    level(1 + rng.IntN(3)),
			Location:        locations[rng.IntN(len(locations))],
			Description:     "Generated for load tests.",
		})
		if err != nil {
			return res, fmt.Errorf("asset %d: %w", i+1, err)
		}
		assetIDs = append(assetIDs, a.ID)
		res.Assets++
		if (i+1)%1000 == 0 {
			progress("assets: %d/%d", i+1, o.Assets)
		}
	}

	controls := catalog.ISO27001v2022().Controls()
	used := map[string]bool{}
	for i := range o.Risks {
		var assets []string
		for range 1 + rng.IntN(3) {
			if len(assetIDs) > 0 {
				assets = append(assets, assetIDs[rng.IntN(len(assetIDs))])
			}
		}
		t := treatments[rng.IntN(len(treatments))]
		in := vigil.RiskInput{
			Title:         fmt.Sprintf("%s through %s (%05d)", threats[i%len(threats)], weaknesses[rng.IntN(len(weaknesses))], i+1),
			Assets:        dedupe(assets),
			Threat:        threats[i%len(threats)],
			Vulnerability: weaknesses[rng.IntN(len(weaknesses))],
			Owner:         pick(riskOwners),
			Likelihood:    level(1 + rng.IntN(5)),
			Impact:        level(1 + rng.IntN(5)),
			Treatment:     t,
		}
		if t == vigil.TreatModify {
			for range 1 + rng.IntN(3) {
				c := controls[rng.IntN(len(controls))].Ref
				if !containsString(in.Controls, c) {
					in.Controls = append(in.Controls, c)
					used[c] = true
				}
			}
			in.ResidualLikelihood, in.ResidualImpact = level(1+rng.IntN(2)), level(1+rng.IntN(3))
		}
		if _, err := st.CreateRisk(ctx, orgID, in); err != nil {
			return res, fmt.Errorf("risk %d: %w", i+1, err)
		}
		res.Risks++
		if (i+1)%1000 == 0 {
			progress("risks: %d/%d", i+1, o.Risks)
		}
	}

	// Decide most of the SoA: controls the risks call for are applicable;
	// a few others are excluded with a reason; the rest stay undecided.
	for i, c := range controls {
		var upd vigil.SoAUpdate
		status := vigil.SoAStatus("implemented")
		switch {
		case used[c.Ref]:
			yes, just := true, "Called for by the risk assessment."
			upd = vigil.SoAUpdate{SetApplicable: true, Applicable: &yes, Justification: &just, Status: &status}
		case i%9 == 0:
			no, just := false, "Not relevant to our operations (generated)."
			upd = vigil.SoAUpdate{SetApplicable: true, Applicable: &no, Justification: &just}
		default:
			continue
		}
		if _, err := st.UpdateSoA(ctx, orgID, c.Ref, upd); err != nil {
			return res, fmt.Errorf("soa %s: %w", c.Ref, err)
		}
		res.Decisions++
	}
	progress("done: %d assets, %d risks, %d SoA decisions", res.Assets, res.Risks, res.Decisions)
	return res, nil
}

func dedupe(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !containsString(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
