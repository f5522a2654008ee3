package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/export"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/web"
)

func runImportAssets(ctx context.Context, e env) error {
	return runRegisterImport(ctx, e, "assets", vigil.AssetImportHeader, func(ctx context.Context, imp registerImporter, r io.Reader) (int, error) {
		rows, problems := vigil.ParseAssetsCSV(r)
		return imp.st.ImportAssets(ctx, imp.orgID, rows, problems)
	})
}

func runImportRisks(ctx context.Context, e env) error {
	return runRegisterImport(ctx, e, "risks", vigil.RiskImportHeader, func(ctx context.Context, imp registerImporter, r io.Reader) (int, error) {
		rows, problems := vigil.ParseRisksCSV(r)
		return imp.st.ImportRisks(ctx, imp.orgID, rows, problems)
	})
}

// registerImporter is where an import goes.
type registerImporter struct {
	st    *store.Store
	orgID string
}

// runRegisterImport reads a CSV file (or standard input for "-") and imports it
// all or nothing: on any bad row it prints every problem as
// "line N: column: message" and exits 1 without writing anything.
func runRegisterImport(ctx context.Context, e env, what string, header []string, run func(context.Context, registerImporter, io.Reader) (int, error)) error {
	fs := newFlagSet(e, "import "+what, fmt.Sprintf("vigil import %s [--org ORG] FILE.csv\n\nThe file's first line is the header %s.", what, strings.Join(header, ",")))
	var sf storeFlags
	sf.register(fs)
	org := fs.String("org", "", "organisation id or exact name (may be left out when only one exists)")
	args, err := parseArgs(fs, e.args, 1)
	if err != nil {
		return err
	}
	var in io.Reader = e.stdin
	if args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return fmt.Errorf("import %s: %w", what, err)
		}
		defer f.Close()
		in = f
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
	n, err := run(cliContext(ctx), registerImporter{st: st, orgID: o.ID}, in)
	var ie *vigil.ImportError
	if errors.As(err, &ie) {
		for _, p := range ie.Problems {
			fmt.Fprintln(e.stderr, p.String())
		}
		return &exitError{code: 1, msg: fmt.Sprintf("import %s: %d problem(s) in %s; nothing was imported", what, len(ie.Problems), args[0])}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "imported %d %s into %s\n", n, what, o.Name)
	return nil
}

func runExportSOA(ctx context.Context, e env) error {
	fs := newFlagSet(e, "export soa", "vigil export soa --format csv|xlsx|pdf -o FILE [--org ORG] [--version N]")
	var sf storeFlags
	sf.register(fs)
	org := fs.String("org", "", "organisation id or exact name (may be left out when only one exists)")
	format := fs.String("format", "csv", "csv, xlsx or pdf")
	out := fs.String("o", "", "the file to write; - or nothing for standard output")
	version := fs.Int("version", 0, "an approved version to export; 0 exports the current SoA")
	if err := parse(fs, e.args); err != nil {
		return err
	}
	f, err := export.ParseFormat(*format, export.CSV, export.XLSX, export.PDF)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	if *version < 0 {
		return errors.New("--version: must be 1 or more (0 for the current SoA)")
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
	t, cover, err := web.SoAExport(ctx, st, o.ID, *version, time.Now())
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := export.Write(&buf, f, t, cover); err != nil {
		return err
	}
	if *out == "" || *out == "-" {
		_, err := e.stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("export soa: %w", err)
	}
	fmt.Fprintf(e.stdout, "wrote the Statement of Applicability of %s (%d controls) to %s\n", o.Name, len(t.Rows), *out)
	return nil
}
