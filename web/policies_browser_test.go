package web_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/demo"
	"github.com/vigilhq/vigil/store/storetest"
	"github.com/vigilhq/vigil/web"
)

// TestBrowserPoliciesTrainingEvidence drives Chromium through the demo:
// the admin approves the policy waiting for them; the employee
// acknowledges it and completes their training. Every page visited fits a
// 360 px phone screen.
func TestBrowserPoliciesTrainingEvidence(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	seed, err := demo.Seed(ctx, st)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	inReview, err := st.ListPolicies(ctx, seed.OrgID, vigil.PolicyFilter{Status: vigil.PolicyInReview})
	if err != nil || len(inReview) != 1 {
		t.Fatalf("policies in review: %v, %v", inReview, err)
	}
	p := inReview[0]
	srv, err := web.New(web.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	signIn := func(email string) {
		b.do("open the login page", chromedp.Navigate(ts.URL+"/login"), chromedp.WaitVisible(chromedp.ID("email")))
		b.do("fill the login form", chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), seed.Password))
		b.submit("sign in as "+email, `form[action="/login"] button[type="submit"]`)
	}

	b.do("desktop", chromedp.EmulateViewport(desktopWidth, desktopHeight))
	signIn(seed.Email)
	b.do("open the policy in review", chromedp.Navigate(ts.URL+"/policies/"+p.ID), chromedp.WaitVisible(chromedp.CSS(`form[action$="/approve"]`)))
	b.shot("policy-review", "desktop")
	b.submit("approve", `form[action$="/approve"] button`)
	if got := b.text("p.flash"); !strings.Contains(got, "Approved") {
		t.Fatalf("flash after approval: %q", got)
	}
	for _, pg := range []struct{ name, path, ready string }{
		{"policies", "/policies", "#s-starter"},
		{"training", "/training", "#c-title"},
		{"evidence", "/evidence", "#u-file"},
	} {
		b.do("open "+pg.path, chromedp.Navigate(ts.URL+pg.path), chromedp.WaitVisible(chromedp.CSS(pg.ready)))
		b.shot(pg.name, "desktop")
	}
	b.do("open a campaign", chromedp.Navigate(ts.URL+"/training"), chromedp.Click(chromedp.CSS(`a[href^="/training/campaigns/"]`)), chromedp.WaitVisible(chromedp.ID("c-title")))
	b.shot("training-campaign", "desktop")
	b.do("open an evidence item", chromedp.Navigate(ts.URL+"/evidence"), chromedp.Click(chromedp.CSS(`td a[href^="/evidence/"]`)), chromedp.WaitVisible(chromedp.ID("e-title")))
	b.shot("evidence-item", "desktop")
	b.submit("sign out", `form[action="/logout"] button[type="submit"]`)

	// The employee reads and acknowledges it, then completes training.
	signIn("employee@acme.test")
	b.do("open policies", chromedp.Navigate(ts.URL+"/policies"), chromedp.WaitVisible(chromedp.ID("to-ack")))
	if got := b.text("#to-ack + p + ul"); !strings.Contains(got, p.Title) {
		t.Fatalf("waiting for acknowledgement: %q, want %q", got, p.Title)
	}
	b.do("open the policy", chromedp.Navigate(ts.URL+"/policies/"+p.ID), chromedp.WaitVisible(chromedp.CSS(`form[action$="/acknowledge"]`)))
	b.shot("policy-acknowledge", "desktop")
	b.submit("acknowledge", `form[action$="/acknowledge"] button`)
	if got := b.text("#ack + p"); !strings.Contains(got, "You acknowledged version 1") {
		t.Fatalf("after acknowledging: %q", got)
	}
	b.do("open training", chromedp.Navigate(ts.URL+"/training"), chromedp.WaitVisible(chromedp.CSS(`form[action^="/training/assignments/"]`)))
	b.shot("training-employee", "desktop")
	b.submit("complete training", `form[action^="/training/assignments/"] button`)
	if got := b.text("p.flash"); !strings.Contains(got, "as completed for Emma Employee") {
		t.Fatalf("flash after completing: %q", got)
	}

	b.do("narrow the viewport", chromedp.EmulateViewport(phoneWidth, phoneHeight))
	for _, pg := range []struct{ name, path, ready string }{
		{"policies", "/policies", ".table-wrap"},
		{"policy", "/policies/" + p.ID, "#text"},
		{"training", "/training", ".table-wrap"},
	} {
		b.do("open "+pg.path, chromedp.Navigate(ts.URL+pg.path), chromedp.WaitVisible(chromedp.CSS(pg.ready)))
		b.fitsWidth(pg.name, phoneWidth)
		b.shot(pg.name+"-employee", "360")
	}
	b.submit("sign out", `form[action="/logout"] button[type="submit"]`)
	signIn(seed.Email)
	for _, pg := range []struct{ name, path, ready string }{
		{"policies", "/policies", "#p-body"},
		{"policy", "/policies/" + p.ID, "#e-body"},
		{"training", "/training", "#c-title"},
		{"evidence", "/evidence", "#u-file"},
	} {
		b.do("open "+pg.path, chromedp.Navigate(ts.URL+pg.path), chromedp.WaitVisible(chromedp.CSS(pg.ready)))
		b.fitsWidth(pg.name, phoneWidth)
		b.shot(pg.name, "360")
	}
}
