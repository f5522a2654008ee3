package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store/storetest"
	"github.com/vigilhq/vigil/wire"
)

// TestBrowserLiveAlerts keeps the alerts page open while an agent reports a
// matching command: the new alert's row appears without a reload and is
// announced in the live region.
func TestBrowserLiveAlerts(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	h := newHarness(t, storetest.OpenSQLite(t))
	ctx := vigil.WithActor(context.Background(), vigil.SystemActor("test"))
	rl, err := h.st.CreateRule(ctx, h.orgA.ID, vigil.RuleInput{Name: "Shadow read", Severity: vigil.SeverityHigh, Expression: `event.command.contains("/etc/shadow")`, Enabled: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	a := h.enrol(h.orgA.ID, "db1")

	b.do("sign in",
		chromedp.EmulateViewport(desktopWidth, desktopHeight),
		chromedp.Navigate(h.ts.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), h.users[vigil.RoleISMSManager].Email),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
	)
	b.submit("sign in", `form[action="/login"] button[type="submit"]`)
	b.do("open the alerts", chromedp.Navigate(h.ts.URL+"/alerts"), chromedp.WaitVisible(chromedp.CSS("tr.empty")),
		chromedp.WaitReady(chromedp.CSS(`#alert-rows[data-connected="true"]`)))
	// Marks this document, so a reload would show.
	browserRun(b, "mark the page", chromedp.Evaluate[bool](`(window.stillHere = true)`))

	now := time.Now().UTC()
	sid := "b0000000-0000-4000-8000-000000000001"
	a.batch(1, wire.Item{SessionStart: &wire.SessionStart{SessionID: sid, User: "mallory", StartedAt: now, Width: 80, Height: 24, Shell: "/bin/bash"}},
		wire.Item{Command: &wire.Command{SessionID: sid, Command: "cat /etc/shadow", StartedAt: now, EndedAt: now, Offset: 2}})

	b.do("wait for the new row", chromedp.WaitVisible(chromedp.CSS(`#alert-rows tr[data-id] a[href^="/alerts/"]`)))
	if ref := b.text(`#alert-rows tr[data-id] td:first-child`); ref != "ALR-1" {
		t.Errorf("new row's ref = %q", ref)
	}
	if !browserRun(b, "check for a reload", chromedp.Evaluate[bool](`window.stillHere === true && !document.querySelector("tr.empty")`)) {
		t.Error("the page reloaded or kept its empty row")
	}
	if live := browserRun(b, "read the live region", chromedp.Evaluate[string](`document.getElementById("alert-live").textContent`)); !strings.Contains(live, "ALR-1") || !strings.Contains(live, "Shadow read") {
		t.Errorf("live region says %q", live)
	}
	if href := browserRun(b, "read the user link", chromedp.Evaluate[string](`document.querySelector("#alert-rows tr[data-id] td:nth-child(5) a").getAttribute("href")`)); href != "/people/mallory/risk" {
		t.Errorf("user link = %q", href)
	}
	alertID := browserRun(b, "read the row's id", chromedp.Evaluate[string](`document.querySelector("#alert-rows tr[data-id]").getAttribute("data-id")`))
	b.shot("alerts", "desktop")
	b.do("narrow the viewport", chromedp.EmulateViewport(phoneWidth, phoneHeight))
	for _, p := range []struct{ name, path, ready string }{
		{"alerts", "/alerts", "#alert-rows"},
		{"rules", "/rules", "#r-expr"},
		{"channels", "/channels", "#c-webhook-name"},
		{"alert", "/alerts/" + alertID, "#recording-link"},
		{"rule", "/rules/" + rl.ID, "#r-expr"},
		{"risk", "/people/mallory/risk", "#risk-score"},
		{"session-alerts", "/sessions/" + sid, "#session-alerts"},
	} {
		b.do("open "+p.path, chromedp.Navigate(h.ts.URL+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		b.fitsWidth(p.name, phoneWidth)
	}
}
