package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// runReadiness prints the readiness checklist; the exit status gates a
// pipeline: 0 ready, 2 not ready, 1 on error.
func runReadiness(ctx context.Context, e env) error {
	fs := newFlagSet(e, "readiness", "vigil readiness [--org ORG] [--format text|json]")
	var sf storeFlags
	sf.register(fs)
	org := fs.String("org", "", "organisation id or exact name (may be left out when only one exists)")
	format := fs.String("format", "text", "output format: text or json")
	if err := parse(fs, e.args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return errors.New("--format must be text or json")
	}
	st, err := sf.open(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := st.ResolveOrg(ctx, *org)
	if err != nil {
		return err
	}
	rd, err := st.Readiness(ctx, o.ID)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rd); err != nil {
			return err
		}
	} else {
		verdict := "not ready"
		if rd.Ready {
			verdict = "ready"
		}
		fmt.Fprintf(e.stdout, "%s: %s (score %d/100)\n", o.Name, verdict, rd.Score)
		for _, c := range rd.Checks {
			mark := "[ ]"
			if c.Passed {
				mark = "[x]"
			}
			fmt.Fprintf(e.stdout, "%s %-18s %s\n", mark, c.ID, c.Detail)
		}
		if rd.Monitoring != nil {
			fmt.Fprintf(e.stdout, "monitoring: %s\n", rd.Monitoring.Detail)
		}
	}
	if !rd.Ready {
		return &exitError{code: 2}
	}
	return nil
}
