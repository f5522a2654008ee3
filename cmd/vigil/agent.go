package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
)

// runAgentTokenCreate prints a one-time enrolment token, alone on stdout, so
// a script can pass it to an agent.
func runAgentTokenCreate(ctx context.Context, e env) error {
	fs := newFlagSet(e, "agent token create", "vigil agent token create --org ORG [--labels env=prod,team=db] [--expires 24h]")
	var sf storeFlags
	sf.register(fs)
	org := fs.String("org", "", "organisation id or exact name (may be left out when only one exists)")
	labels := fs.String("labels", "", "labels for the host, KEY=VALUE separated by commas")
	expires := fs.Duration("expires", vigil.DefaultEnrollmentExpiry, "how long the token can be used")
	if err := parse(fs, e.args); err != nil {
		return err
	}
	if *expires <= 0 {
		return errors.New("--expires must be positive")
	}
	ls, err := store.ParseLabels(*labels)
	if err != nil {
		return fmt.Errorf("--labels: %s", vigil.ErrorMessage(err))
	}
	st, err := sf.open(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := st.ResolveOrg(ctx, *org)
	if err != nil {
		return err
	}
	secret, err := st.CreateEnrollmentToken(cliContext(ctx), vigil.NewEnrollment{OrgID: o.ID, Labels: ls, ExpiresIn: *expires})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, secret)
	return nil
}

func runAgentRevoke(ctx context.Context, e env) error {
	fs := newFlagSet(e, "agent revoke", "vigil agent revoke ID")
	var sf storeFlags
	sf.register(fs)
	args, err := parseArgs(fs, e.args, 1)
	if err != nil {
		return err
	}
	st, err := sf.open(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	h, err := st.FindHost(ctx, args[0])
	if err != nil {
		return err
	}
	if _, err := st.RevokeHost(cliContext(ctx), h.OrgID, h.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "agent %s (%s) revoked\n", h.ID, h.Hostname)
	return nil
}

// runSessionVerify rechecks a recorded session's chunk hash chain; exit
// status 2 when it does not verify.
func runSessionVerify(ctx context.Context, e env) error {
	fs := newFlagSet(e, "session verify", "vigil session verify ID")
	var sf storeFlags
	sf.register(fs)
	args, err := parseArgs(fs, e.args, 1)
	if err != nil {
		return err
	}
	st, err := sf.open(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	org, err := st.FindSessionOrg(ctx, args[0])
	if err != nil {
		return err
	}
	v, err := st.VerifySession(ctx, org, args[0])
	if err != nil {
		return err
	}
	expected := "unknown (live)"
	if v.Expected != nil {
		expected = fmt.Sprint(*v.Expected)
	}
	fmt.Fprintf(e.stdout, "session %s: %d chunks stored, %s declared\nfinal hash %s\n", v.SessionID, v.Chunks, expected, v.FinalHash)
	for _, p := range v.Problems {
		fmt.Fprintf(e.stdout, "problem: %s\n", p)
	}
	if !v.OK {
		return &exitError{code: 2, msg: fmt.Sprintf("session %s does not verify (tampered chunks %v, missing %v)", v.SessionID, v.Tampered, v.Missing)}
	}
	fmt.Fprintln(e.stdout, "ok")
	return nil
}
