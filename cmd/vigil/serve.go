package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/demo"
	"github.com/vigilhq/vigil/notify"
	"github.com/vigilhq/vigil/reminder"
	"github.com/vigilhq/vigil/signing"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/web"
)

func runServe(ctx context.Context, e env) error {
	fs := newFlagSet(e, "serve", "vigil serve [--addr ADDR] [--data DIR] [--db DSN] [--demo]")
	var sf storeFlags
	sf.register(fs)
	addr := fs.String("addr", envOr("VIGIL_ADDR", "127.0.0.1:8080"), "address to listen on [VIGIL_ADDR]")
	withDemo := fs.Bool("demo", false, "on an empty store, create the demo organisation and print how to sign in")
	logFormat := fs.String("log-format", envOr("VIGIL_LOG_FORMAT", "text"), "log format: text or json [VIGIL_LOG_FORMAT]")
	tlsCert := fs.String("tls-cert", envOr("VIGIL_TLS_CERT", ""), "TLS certificate file (PEM); serve HTTPS with --tls-key [VIGIL_TLS_CERT]")
	tlsKey := fs.String("tls-key", envOr("VIGIL_TLS_KEY", ""), "TLS private key file (PEM) [VIGIL_TLS_KEY]")
	smtpURL := fs.String("smtp-url", envOr("VIGIL_SMTP_URL", ""), "mail relay for reminders and email alerts, smtp://user:pass@host:port (smtps:// for TLS) [VIGIL_SMTP_URL]")
	publicURL := fs.String("public-url", envOr("VIGIL_PUBLIC_URL", ""), "the URL people reach this server at, for links in emails; default http://ADDR [VIGIL_PUBLIC_URL]")
	keyFile := fs.String("signing-key", envOr("VIGIL_SIGNING_KEY", ""), "Ed25519 key that signs trail checkpoints; default <data>/"+signing.DefaultFile+", created at first start [VIGIL_SIGNING_KEY]")
	if err := parse(fs, e.args); err != nil {
		return err
	}
	logger, err := newLogger(e.stderr, *logFormat)
	if err != nil {
		return err
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	var mailer *notify.Sender
	if *smtpURL != "" {
		cfg, err := notify.ParseSMTPURL(*smtpURL)
		if err != nil {
			return fmt.Errorf("--smtp-url: %w", err)
		}
		mailer = &notify.Sender{SMTP: cfg}
	}
	if *publicURL == "" {
		*publicURL = "http://" + *addr
	}
	// Listen before anything else, so a busy port fails fast and cleanly.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, unwrapNet(err))
	}
	defer ln.Close()

	st, err := sf.open(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	key, err := loadSigningKey(*keyFile, sf.data, true)
	if err != nil {
		return err
	}
	if *withDemo {
		res, err := demo.Seed(ctx, st)
		if err != nil {
			return err
		}
		url := "http://" + ln.Addr().String() + "/"
		if *tlsCert != "" {
			url = "https://" + ln.Addr().String() + "/"
		}
		if res.Created {
			fmt.Fprintf(e.stdout, "Demo organisation %q created.\nOpen %s and sign in as %s with password %s\n(every demo person, e.g. auditor@acme.test, has the same password)\n", demo.OrgName, url, res.Email, res.Password)
		} else {
			fmt.Fprintf(e.stdout, "The store already holds data; the demo changed nothing.\nOpen %s (demo admin: %s, with the password printed at its first start)\n", url, res.Email)
		}
	}
	srv, err := web.New(web.Options{Store: st, Logger: logger, TLS: *tlsCert != "", Sender: mailer, PublicURL: *publicURL})
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	jobs, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	go runJobs(jobs, st, logger, periodicJobs(st, key, mailer, *publicURL))

	errc := make(chan error, 1)
	go func() {
		if *tlsCert != "" {
			errc <- hs.ServeTLS(ln, *tlsCert, *tlsKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	logger.Info("serving", slog.String("addr", ln.Addr().String()), slog.String("db", st.Dialect()), slog.String("version", vigil.Version))
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	stopJobs()
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

func unwrapNet(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// loadSigningKey reads the checkpoint key from --signing-key, or from the
// data folder (created there on first use when create is set).
func loadSigningKey(file, data string, create bool) (ed25519.PrivateKey, error) {
	if file != "" {
		return signing.LoadOrCreate(file, false)
	}
	return signing.LoadOrCreate(filepath.Join(data, signing.DefaultFile), create)
}

// job is a periodic task of the server.
type job struct {
	name  string
	every time.Duration
	run   func(ctx context.Context) (summary string, err error)
}

// periodicJobs lists what the server does on its own.
func periodicJobs(st *store.Store, key ed25519.PrivateKey, mailer *notify.Sender, publicURL string) []job {
	jobs := []job{
		{"trail-checkpoint", time.Hour, func(ctx context.Context) (string, error) {
			cps, err := st.Checkpoint(ctx, key)
			return fmt.Sprintf("%d chains signed", len(cps)), err
		}},
		{"recording-purge", time.Hour, func(ctx context.Context) (string, error) {
			n, err := st.PurgeExpiredRecordings(ctx)
			return fmt.Sprintf("%d sessions purged", n), err
		}},
		{"training-refresh", 24 * time.Hour, func(ctx context.Context) (string, error) {
			orgs, err := st.ListOrgs(ctx)
			if err != nil {
				return "", err
			}
			for _, o := range orgs {
				if err := st.RefreshTraining(ctx, o.ID); err != nil {
					return "", fmt.Errorf("organisation %s: %w", o.ID, err)
				}
			}
			return fmt.Sprintf("%d organisations refreshed", len(orgs)), nil
		}},
	}
	if mailer != nil {
		jobs = append(jobs, job{"reminders", 24 * time.Hour, func(ctx context.Context) (string, error) {
			n, err := reminder.Run(ctx, st, mailer, st.Now().UTC().Format(time.DateOnly), publicURL)
			return fmt.Sprintf("%d reminder emails sent", n), err
		}})
	}
	return jobs
}

// runJobs runs each job at start and then at its interval until ctx ends.
// Store.RunJob makes each run once per interval across every server that
// shares the database.
func runJobs(ctx context.Context, st *store.Store, logger *slog.Logger, jobs []job) {
	ctx = vigil.WithActor(ctx, vigil.SystemActor("scheduler"))
	for _, j := range jobs {
		go func() {
			t := time.NewTicker(j.every)
			defer t.Stop()
			for {
				var summary string
				ran, err := st.RunJob(ctx, j.name, j.every, func(ctx context.Context) error {
					var err error
					summary, err = j.run(ctx)
					return err
				})
				switch {
				case err != nil && ctx.Err() == nil:
					logger.Error("job failed", slog.String("job", j.name), slog.String("error", err.Error()))
				case ran:
					logger.Info("job done", slog.String("job", j.name), slog.String("result", summary))
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
}
