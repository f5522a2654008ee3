package main

import (
	"context"
	"errors"
)

func runReadiness(ctx context.Context, e env) error    { return errors.New("readiness: not available yet") }
func runDemoGenerate(ctx context.Context, e env) error { return errors.New("demo generate: not available yet") }
