package web_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/vigilhq/vigil/demo"
	"github.com/vigilhq/vigil/store/storetest"
	"github.com/vigilhq/vigil/web"
)

// TestBrowserAssetsRisksSoA signs in to the demo as its ISMS manager, who
// sees every form, and opens each page of the asset register, the risks and
// the SoA at desktop and phone width: none may scroll sideways.
func TestBrowserAssetsRisksSoA(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	seed, err := demo.Seed(ctx, st)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	srv, err := web.New(web.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	b.do("open the login page", chromedp.EmulateViewport(desktopWidth, desktopHeight), chromedp.Navigate(ts.URL+"/login"), chromedp.WaitVisible(chromedp.ID("email")))
	b.do("fill the login form", chromedp.SendKeys(chromedp.ID("email"), "isms@acme.test"), chromedp.SendKeys(chromedp.ID("password"), seed.Password))
	b.submit("sign in", `form[action="/login"] button[type="submit"]`)
	b.do("wait for the dashboard", chromedp.WaitVisible(chromedp.CSS(`nav.main-nav`)))

	pages := []struct{ name, path, ready string }{
		{"assets", "/assets", "#a-name"},
		{"asset", "/assets/AST-1", "#a-name"},
		{"risks", "/risks", "svg"},
		{"risk", "/risks/RSK-3", "#r-title"},
		{"risk-new", "/risks/new", "#r-title"},
		{"risk-method", "/risks/method", "#m-threshold"},
		{"soa", "/soa", ".table-wrap"},
		{"soa-control", "/soa/8.7", "#s-just"},
		{"soa-version", "/soa/versions/1", ".table-wrap"},
		{"soa-diff", "/soa/diff?from=1", ".table-wrap"},
		{"soa-controls", "/soa/controls", "#c-title"},
	}
	for _, p := range pages {
		b.do("open "+p.path, chromedp.Navigate(ts.URL+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		b.fitsWidth(p.name, desktopWidth)
		b.shot(p.name, "desktop")
	}
	// The owner of RSK-3 is the ISMS manager: the acceptance form is there.
	b.do("open RSK-3", chromedp.Navigate(ts.URL+"/risks/RSK-3"), chromedp.WaitVisible(chromedp.ID("acc-comment")))
	b.submit("accept RSK-3", `form[action$="/accept"] button[type="submit"]`)
	b.do("narrow the viewport", chromedp.EmulateViewport(phoneWidth, phoneHeight))
	for _, p := range pages {
		b.do("open "+p.path, chromedp.Navigate(ts.URL+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		b.fitsWidth(p.name, phoneWidth)
		b.shot(p.name, "360")
	}
}
