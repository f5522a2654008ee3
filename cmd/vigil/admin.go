package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
)

func runMigrate(ctx context.Context, e env) error {
	fs := newFlagSet(e, "migrate", "vigil migrate [--data DIR] [--db DSN]")
	var sf storeFlags
	sf.register(fs)
	if err := parse(fs, e.args); err != nil {
		return err
	}
	st, err := store.Open(ctx, store.Config{DSN: sf.db, DataDir: sf.data})
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "applied %d migration(s); the %s database is up to date\n", n, st.Dialect())
	return nil
}

func runVersion(ctx context.Context, e env) error {
	fs := newFlagSet(e, "version", "vigil version")
	if err := parse(fs, e.args); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "vigil "+vigil.Version)
	return nil
}

func runOrgCreate(ctx context.Context, e env) error {
	fs := newFlagSet(e, "org create", "vigil org create --name NAME")
	var sf storeFlags
	sf.register(fs)
	name := fs.String("name", "", "the organisation's name (unique)")
	if err := parse(fs, e.args); err != nil {
		return err
	}
	st, err := sf.open(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := st.CreateOrg(cliContext(ctx), *name)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, o.ID)
	return nil
}

func runOrgList(ctx context.Context, e env) error {
	fs := newFlagSet(e, "org list", "vigil org list")
	var sf storeFlags
	sf.register(fs)
	if err := parse(fs, e.args); err != nil {
		return err
	}
	st, err := sf.open(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	orgs, err := st.ListOrgs(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED")
	for _, o := range orgs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", o.ID, o.Name, o.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func runUserAdd(ctx context.Context, e env) error {
	fs := newFlagSet(e, "user add", "vigil user add --email E --name N --org ORG --role ROLE [--password-stdin]")
	var sf storeFlags
	sf.register(fs)
	email := fs.String("email", "", "the person's email (their sign-in name)")
	name := fs.String("name", "", "the person's name")
	org := fs.String("org", "", "organisation id or exact name (may be left out when only one exists)")
	role := fs.String("role", "", "role: "+roleList())
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := parse(fs, e.args); err != nil {
		return err
	}
	var pw string
	if *pwStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
		if pw == "" {
			return errors.New("--password-stdin: standard input held no password")
		}
	}
	r, err := vigil.ParseMemberRole(*role)
	if err != nil {
		return fmt.Errorf("--role: must be one of %s", roleList())
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
	m, err := st.AddMember(cliContext(ctx), o.ID, vigil.NewMember{Email: *email, Name: *name, Role: r, Password: pw})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, m.ID)
	return nil
}

func roleList() string {
	var s []string
	for _, r := range vigil.MemberRoles {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

func runUserList(ctx context.Context, e env) error {
	fs := newFlagSet(e, "user list", "vigil user list")
	var sf storeFlags
	sf.register(fs)
	if err := parse(fs, e.args); err != nil {
		return err
	}
	st, err := sf.open(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	users, err := st.ListUsers(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tSTATUS\tMEMBERSHIPS")
	for _, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		var ms []string
		for _, m := range u.Memberships {
			ms = append(ms, m.OrgName+":"+string(m.Role))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name, status, strings.Join(ms, ", "))
	}
	return tw.Flush()
}

func runUserDisable(ctx context.Context, e env) error { return setDisabled(ctx, e, "disable", true) }
func runUserEnable(ctx context.Context, e env) error  { return setDisabled(ctx, e, "enable", false) }

func setDisabled(ctx context.Context, e env, verb string, disabled bool) error {
	fs := newFlagSet(e, "user "+verb, "vigil user "+verb+" --email E")
	var sf storeFlags
	sf.register(fs)
	email := fs.String("email", "", "the person's email")
	if err := parse(fs, e.args); err != nil {
		return err
	}
	st, err := sf.open(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.SetUserDisabled(cliContext(ctx), *email, disabled)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s %sd\n", u.Email, verb)
	return nil
}

func runTokenCreate(ctx context.Context, e env) error {
	fs := newFlagSet(e, "token create", "vigil token create --email E --org ORG [--name N] [--expires 720h]")
	var sf storeFlags
	sf.register(fs)
	email := fs.String("email", "", "the member the token acts as")
	org := fs.String("org", "", "organisation id or exact name (may be left out when only one exists)")
	name := fs.String("name", "cli", "a name to recognise the token by")
	expires := fs.Duration("expires", 0, "lifetime, e.g. 720h; 0 = never expires")
	if err := parse(fs, e.args); err != nil {
		return err
	}
	if *expires < 0 {
		return errors.New("--expires must not be negative")
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
	if *email == "" {
		return errors.New("--email is required")
	}
	m, err := st.GetMember(ctx, o.ID, strings.ToLower(strings.TrimSpace(*email)))
	if err != nil {
		return fmt.Errorf("%s is not a member of %s", *email, o.Name)
	}
	_, secret, err := st.CreateToken(cliContext(ctx), vigil.NewToken{MembershipID: m.MembershipID, Name: *name, ExpiresIn: *expires})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, secret)
	return nil
}

func runTokenRevoke(ctx context.Context, e env) error {
	fs := newFlagSet(e, "token revoke", "vigil token revoke ID")
	var sf storeFlags
	sf.register(fs)
	args, err := parseArgs(fs, e.args, 1)
	if err != nil {
		return err
	}
	id := args[0]
	st, err := sf.open(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	t, err := st.FindToken(ctx, id)
	if err != nil {
		return err
	}
	if _, err := st.RevokeToken(cliContext(ctx), t.OrgID, "", id); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "token %s revoked\n", id)
	return nil
}
