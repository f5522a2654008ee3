package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/demo"
	"github.com/vigilhq/vigil/store/storetest"
	"github.com/vigilhq/vigil/web"
)

// envScreenshots names the folder that receives a full-page PNG of every page
// the browser tests visit, at desktop and phone width. Unset: no files.
const envScreenshots = "VIGIL_SCREENSHOTS"

// Viewports the pages are checked at.
const (
	desktopWidth, desktopHeight = 1280, 900
	phoneWidth, phoneHeight     = 360, 740
)

// TestBrowserLoginAddMemberTrail drives Chromium through the admin's main
// path: sign in, add a member, find the change in the audit trail, sign out.
// On the way it checks the keyboard order of the login page and that no page
// is wider than a 360 px phone screen.
func TestBrowserLoginAddMemberTrail(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	seed, err := demo.Seed(ctx, st)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	members, err := st.ListMembers(ctx, seed.OrgID, "", 100)
	if err != nil {
		t.Fatalf("list members: %v", err)
	}
	i := slices.IndexFunc(members, func(m vigil.Member) bool { return m.Email == seed.Email })
	if i < 0 {
		t.Fatalf("the demo has no %s", seed.Email)
	}
	adminID := members[i].ID
	srv, err := web.New(web.Options{Store: st})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	// Login: the first Tab stops on the skip link, which then shows, and the
	// second on the email field.
	b.do("open the login page",
		chromedp.EmulateViewport(desktopWidth, desktopHeight),
		chromedp.Navigate(ts.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("email")),
	)
	b.shot("login", "desktop")
	b.do("press Tab", chromedp.KeyEvent("\t"))
	if got := b.focused(); got != "a.skip" {
		t.Fatalf("first Tab focuses %s, want the skip link a.skip", got)
	}
	if !browserRun(b, "skip link on screen", chromedp.Evaluate[bool](`(r => r.left >= 0 && r.top >= 0 && r.width > 0 && r.height > 0)(document.activeElement.getBoundingClientRect())`)) {
		t.Fatal("the focused skip link is not on screen")
	}
	b.shot("login", "skip-focused")
	b.do("press Tab", chromedp.KeyEvent("\t"))
	if got := b.focused(); got != "#email" {
		t.Fatalf("second Tab focuses %s, want #email", got)
	}

	// Sign in and land on the dashboard.
	b.do("fill the login form",
		chromedp.SendKeys(chromedp.ID("email"), seed.Email),
		chromedp.SendKeys(chromedp.ID("password"), seed.Password),
	)
	b.submit("sign in", `form[action="/login"] button[type="submit"]`)
	b.do("wait for the dashboard", chromedp.WaitVisible(chromedp.CSS(`nav.main-nav`)))
	if got := b.text("main"); !strings.Contains(got, demo.OrgName) {
		t.Fatalf("dashboard reads %q, want the organisation %q", got, demo.OrgName)
	}
	b.shot("dashboard", "desktop")

	// Add a member.
	b.do("fill the add-member form",
		chromedp.Navigate(ts.URL+"/members"),
		chromedp.WaitVisible(chromedp.ID("m-email")),
		chromedp.SendKeys(chromedp.ID("m-email"), "carol@acme.test"),
		chromedp.SendKeys(chromedp.ID("m-name"), "Carol Example"),
		chromedp.SetValue(chromedp.ID("m-role"), "internal_auditor"),
		chromedp.SendKeys(chromedp.ID("m-password"), "correct-horse1"),
	)
	b.submit("add the member", `form[action="/members"] button[type="submit"]`)
	b.do("wait for the flash", chromedp.WaitVisible(chromedp.CSS(`p.flash`)))
	if got := b.text("p.flash"); !strings.Contains(got, "Added carol@acme.test") {
		t.Fatalf("flash reads %q, want it to confirm carol@acme.test", got)
	}
	type memberRow struct {
		Name   string `json:"name"`
		Role   string `json:"role"`
		Status string `json:"status"`
	}
	row := browserRun(b, "read carol's row", chromedp.Evaluate[*memberRow](`(() => {
		const tr = [...document.querySelectorAll(".table-wrap tbody tr")]
			.find(tr => tr.cells[1] && tr.cells[1].textContent.trim() === "carol@acme.test");
		return tr ? {name: tr.cells[0].textContent.trim(), role: tr.querySelector("select").value, status: tr.cells[3].textContent.trim()} : null;
	})()`))
	if want := (memberRow{Name: "Carol Example", Role: "internal_auditor", Status: "active"}); row == nil || *row != want {
		t.Fatalf("members table row of carol@acme.test = %+v, want %+v", row, want)
	}
	b.shot("members", "desktop")

	// The trail shows who added her.
	b.do("find the membership in the trail",
		chromedp.Navigate(ts.URL+"/trail"),
		chromedp.WaitVisible(`//tbody/tr[td[4][normalize-space()="membership.create"]][td[6][contains(., "carol@acme.test")]]`),
	)
	type trailRow struct {
		Actor   string `json:"actor"`
		Action  string `json:"action"`
		Changes string `json:"changes"`
	}
	entries := browserRun(b, "read the trail", chromedp.Evaluate[[]trailRow](`[...document.querySelectorAll(".table-wrap tbody tr")]
		.filter(tr => tr.cells.length === 6)
		.map(tr => ({actor: tr.cells[2].textContent.trim(), action: tr.cells[3].textContent.trim(), changes: tr.cells[5].textContent}))`))
	for _, action := range []string{"user.create", "membership.create"} {
		if !slices.ContainsFunc(entries, func(e trailRow) bool {
			return e.Action == action && strings.Contains(e.Changes, "carol@acme.test") && e.Actor == "user: "+adminID
		}) {
			t.Errorf("trail has no %s of carol@acme.test by user: %s; it has %+v", action, adminID, entries)
		}
	}
	b.shot("trail", "desktop")

	b.do("open the profile", chromedp.Navigate(ts.URL+"/profile"), chromedp.WaitVisible(chromedp.ID("cur")))
	b.shot("profile", "desktop")

	// Every page fits a phone: tables scroll inside their .table-wrap, the
	// document itself never scrolls sideways.
	b.do("narrow the viewport", chromedp.EmulateViewport(phoneWidth, phoneHeight))
	for _, p := range []struct{ name, path, ready string }{
		{"dashboard", "/", "nav.main-nav"},
		{"members", "/members", "#m-email"},
		{"trail", "/trail", ".table-wrap"},
		{"profile", "/profile", "#cur"},
		{"tokens", "/tokens", "#t-name"},
	} {
		b.do("open "+p.path, chromedp.Navigate(ts.URL+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		b.fitsWidth(p.name, phoneWidth)
		b.shot(p.name, "360")
	}

	b.submit("sign out", `form[action="/logout"] button[type="submit"]`)
	b.do("wait for the login page", chromedp.WaitVisible(chromedp.ID("email")))
	b.fitsWidth("login", phoneWidth)
	b.shot("login", "360")
}

// browser is one Chromium tab on the test server, with helpers that fail
// the test at the first broken step.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string // folder for screenshots; empty: none
}

// newBrowser starts a headless Chromium with a fresh profile. Without a
// browser on the PATH the test skips, except in CI (CI=true), where it fails.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		msg := "no chromium, chromium-browser or google-chrome on the PATH; install one to run the browser tests"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	profile := t.TempDir()
	// The whole browser session, start-up included, ends after a minute, so a
	// wedged browser fails the test and never hangs it.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	// The defaults already run headless with no-first-run,
	// disable-background-networking and disable-sync.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
	)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc) // waits for the browser to exit, before the profile is removed
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return &browser{t: t, ctx: ctx, shots: os.Getenv(envScreenshots)}
}

// stepTimeout bounds one step, so a missing element fails fast with the
// step's name rather than at the end of the session.
const stepTimeout = 10 * time.Second

// do runs the steps, failing the test with what they were for.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// browserRun runs one action that returns a value.
func browserRun[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// submit clicks a form's button and waits for the page it leads to, which
// must load with 200 OK (after any redirect).
func (b *browser) submit(what, button string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button)))
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	if resp.Status != http.StatusOK {
		msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("main .error") ?? document.querySelector("main h1"))?.innerText ?? ""`))
		b.t.Fatalf("%s: %s answers %d, want 200; the page says %q", what, resp.URL, resp.Status, msg)
	}
}

// text returns the visible text of the first element that matches css.
func (b *browser) text(css string) string {
	b.t.Helper()
	return browserRun(b, "read "+css, chromedp.Text(chromedp.CSS(css)))
}

// focused describes the focused element as "#id" or "tag.class".
func (b *browser) focused() string {
	b.t.Helper()
	return browserRun(b, "read the focus", chromedp.Evaluate[string](`(e => e.id ? "#" + e.id : e.tagName.toLowerCase() + (e.className ? "." + e.className : ""))(document.activeElement)`))
}

// fitsWidth fails the test when the document scrolls sideways.
func (b *browser) fitsWidth(page string, width int) {
	b.t.Helper()
	if w := browserRun(b, "measure "+page, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > width {
		b.t.Errorf("%s is %d px wide in a %d px viewport", page, w, width)
	}
}

// shot saves a full-page PNG as <page>-<variant>.png in the screenshot
// folder, when there is one.
func (b *browser) shot(page, variant string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	png := browserRun(b, "screenshot "+page, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, page+"-"+variant+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
