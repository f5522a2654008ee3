package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigilhq/vigil/demo"
)

// runDemoGenerate fills an organisation with load-test data, printing
// progress on stderr and a summary on stdout.
func runDemoGenerate(ctx context.Context, e env) error {
	fs := newFlagSet(e, "demo generate", "vigil demo generate --org ORG [--assets 10000] [--risks 5000]")
	var sf storeFlags
	sf.register(fs)
	org := fs.String("org", "", "organisation id or exact name (may be left out when only one exists)")
	assets := fs.Int("assets", 1000, "how many assets to create")
	risks := fs.Int("risks", 500, "how many risks to create")
	seed := fs.Uint64("seed", 1, "random seed, for reproducible data")
	if err := parse(fs, e.args); err != nil {
		return err
	}
	if *assets < 0 || *risks < 0 || *assets > 1_000_000 || *risks > 1_000_000 {
		return errors.New("--assets and --risks must be between 0 and 1000000")
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
	start := time.Now()
	res, err := demo.Generate(ctx, st, o.ID, demo.GenerateOptions{Assets: *assets, Risks: *risks, Progress: e.stderr, Seed: *seed})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "generated %d assets, %d risks and %d SoA decisions in %s for %s\n", res.Assets, res.Risks, res.Decisions, time.Since(start).Round(time.Millisecond), o.Name)
	return nil
}
