package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/signing"
)

func runTrailVerify(ctx context.Context, e env) error {
	fs := newFlagSet(e, "trail verify", "vigil trail verify [--org ORG] [--pubkey FILE]")
	var sf storeFlags
	sf.register(fs)
	org := fs.String("org", "", "verify only this organisation's chain (id or exact name)")
	pubFile := fs.String("pubkey", "", "also check every checkpoint signed by this public key (PEM, from 'vigil trail pubkey')")
	if err := parse(fs, e.args); err != nil {
		return err
	}
	var pub ed25519.PublicKey
	if *pubFile != "" {
		var err error
		if pub, err = signing.ReadPublic(*pubFile); err != nil {
			return err
		}
	}
	st, err := sf.open(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()
	var chains []string
	if *org != "" {
		o, err := st.ResolveOrg(ctx, *org)
		if err != nil {
			return err
		}
		chains = []string{o.ID}
	} else if chains, err = st.Chains(ctx); err != nil {
		return err
	}
	bad := false
	for _, c := range chains {
		res, err := st.VerifyChain(ctx, c, pub)
		if err != nil {
			return err
		}
		var ce *vigil.ChainError
		if errors.As(res.Err, &ce) {
			bad = true
			fmt.Fprintf(e.stdout, "bad %s %d %s\n", c, ce.Seq, ce.Reason)
			continue
		}
		line := fmt.Sprintf("ok %d %s", res.Entries, res.Head)
		if len(chains) > 1 || *org == "" {
			line += " " + c
		}
		if pub != nil {
			line += fmt.Sprintf(" (%d checkpoints)", res.Checkpoints)
		}
		fmt.Fprintln(e.stdout, line)
	}
	if bad {
		return &exitError{code: 1, msg: "the trail has been tampered with"}
	}
	return nil
}

func runTrailCheckpoint(ctx context.Context, e env) error {
	fs := newFlagSet(e, "trail checkpoint", "vigil trail checkpoint [--signing-key FILE]")
	var sf storeFlags
	sf.register(fs)
	keyFile := fs.String("signing-key", envOr("VIGIL_SIGNING_KEY", ""), "Ed25519 signing key; default <data>/"+signing.DefaultFile+" [VIGIL_SIGNING_KEY]")
	if err := parse(fs, e.args); err != nil {
		return err
	}
	key, err := loadSigningKey(*keyFile, sf.data, true)
	if err != nil {
		return err
	}
	st, err := sf.open(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()
	cps, err := st.Checkpoint(cliContext(ctx), key)
	if err != nil {
		return err
	}
	for _, c := range cps {
		fmt.Fprintf(e.stdout, "checkpoint %s %d %s\n", c.Chain, c.Seq, c.Hash)
	}
	if len(cps) == 0 {
		fmt.Fprintln(e.stdout, "no chain moved since its last checkpoint")
	}
	return nil
}

func runTrailPubkey(ctx context.Context, e env) error {
	fs := newFlagSet(e, "trail pubkey", "vigil trail pubkey [--signing-key FILE]")
	var sf storeFlags
	sf.register(fs)
	keyFile := fs.String("signing-key", envOr("VIGIL_SIGNING_KEY", ""), "Ed25519 signing key; default <data>/"+signing.DefaultFile+" [VIGIL_SIGNING_KEY]")
	if err := parse(fs, e.args); err != nil {
		return err
	}
	key, err := loadSigningKey(*keyFile, sf.data, true)
	if err != nil {
		return err
	}
	b, err := signing.PublicPEM(key)
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(b)
	return err
}
