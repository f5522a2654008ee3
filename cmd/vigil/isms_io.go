package main

import (
	"context"
	"errors"
)

func runImportAssets(ctx context.Context, e env) error { return errors.New("import assets: not available yet") }
func runImportRisks(ctx context.Context, e env) error  { return errors.New("import risks: not available yet") }
func runExportSOA(ctx context.Context, e env) error    { return errors.New("export soa: not available yet") }
