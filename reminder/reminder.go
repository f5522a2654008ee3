// Package reminder emails people about what falls due in the ISMS:
// audits and certification deadlines coming up, corrective actions, policy
// and risk reviews due soon or overdue. Overdue corrective actions are
// escalated to the organisation's admins and ISMS managers as well.
package reminder

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
)

// Lead is how far ahead a reminder goes out.
const Lead = 7 * 24 * time.Hour

// Mailer sends one plain-text email.
type Mailer interface {
	Mail(ctx context.Context, to []string, subject, body string) error
}

// Run sends today's reminders for every organisation, one email per
// person, and returns how many emails went out. Each item is reminded at
// most once a day, across servers. baseURL prefixes links.
func Run(ctx context.Context, st *store.Store, m Mailer, today, baseURL string) (int, error) {
	day, err := time.Parse(time.DateOnly, today)
	if err != nil {
		return 0, vigil.Invalid("today", "must be a date")
	}
	horizon := day.Add(Lead).Format(time.DateOnly)
	orgs, err := st.ListOrgs(ctx)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, o := range orgs {
		n, err := runOrg(ctx, st, m, o, today, horizon, baseURL)
		sent += n
		if err != nil {
			return sent, fmt.Errorf("organisation %s: %w", o.Name, err)
		}
	}
	return sent, nil
}

func runOrg(ctx context.Context, st *store.Store, m Mailer, o vigil.Org, today, horizon, baseURL string) (int, error) {
	dues, err := st.DueDates(ctx, o.ID, today)
	if err != nil {
		return 0, err
	}
	members, err := st.ListMembers(ctx, o.ID, "", 10000)
	if err != nil {
		return 0, err
	}
	email := map[string]string{}
	var escalate []string
	for _, mb := range members {
		if mb.Disabled {
			continue
		}
		email[mb.ID] = mb.Email
		if mb.Role == vigil.RoleAdmin || mb.Role == vigil.RoleISMSManager {
			escalate = append(escalate, mb.Email)
		}
	}
	byPerson := map[string][]string{}
	for _, d := range dues {
		if d.Finished || d.Date == "" || d.Date > horizon {
			continue
		}
		var to []string
		if e := email[d.Owner]; e != "" {
			to = append(to, e)
		}
		// Overdue corrective actions and certification deadlines go to the
		// people who answer for the ISMS too.
		if d.Overdue && (d.Kind == "corrective_action" || d.Kind == "surveillance" || d.Kind == "recertification" || d.Kind == "expiry") {
			to = append(to, escalate...)
		}
		if len(to) == 0 {
			continue
		}
		claimed, err := st.ClaimReminder(ctx, o.ID, d.Kind, d.UID, today)
		if err != nil {
			return 0, err
		}
		if !claimed {
			continue
		}
		state := "due " + d.Date
		if d.Overdue || d.Date < today {
			state = "OVERDUE since " + d.Date
		}
		line := fmt.Sprintf("- %s — %s\n  %s%s", d.Title, state, baseURL, d.Link)
		for _, e := range to {
			if !slices.Contains(byPerson[e], line) {
				byPerson[e] = append(byPerson[e], line)
			}
		}
	}
	people := make([]string, 0, len(byPerson))
	for e := range byPerson {
		people = append(people, e)
	}
	sort.Strings(people)
	sent := 0
	for _, e := range people {
		lines := byPerson[e]
		subject := fmt.Sprintf("[Vigil] %d ISMS item(s) due or overdue · %s", len(lines), o.Name)
		body := "These items of the " + o.Name + " ISMS are due within a week or overdue:\n\n" + strings.Join(lines, "\n") + "\n\n-- \nVigil\n"
		if err := m.Mail(ctx, []string{e}, subject, body); err != nil {
			return sent, fmt.Errorf("mail %s: %w", e, err)
		}
		sent++
	}
	return sent, nil
}
