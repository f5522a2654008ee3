package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store/storetest"
)

// TestBrowserSessionPlayer plays a recorded session in Chromium: the player
// streams the cast, a click on a command seeks there, output shows without
// ANSI escapes, and the page fits a phone.
func TestBrowserSessionPlayer(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	h := newHarness(t, storetest.OpenSQLite(t))
	a := h.enrol(h.orgA.ID, "web1")
	a.recordTestSession("sess-1", 1)

	b.do("sign in",
		chromedp.EmulateViewport(desktopWidth, desktopHeight),
		chromedp.Navigate(h.ts.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), h.users[vigil.RoleInternalAuditor].Email),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
	)
	b.submit("sign in", `form[action="/login"] button[type="submit"]`)
	b.do("open the session", chromedp.Navigate(h.ts.URL+"/sessions/sess-1"), chromedp.WaitVisible(chromedp.ID("player-screen")))
	// Seek to the second command: everything up to 4 s is on screen.
	b.do("click a command", chromedp.Click(chromedp.CSS(`button.seek[data-offset="4"]`)))
	deadline := time.Now().Add(10 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		screen = browserRun(b, "read the screen", chromedp.Evaluate[string](`document.getElementById("player-screen").textContent`))
		if strings.Contains(screen, "done") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(screen, "kerberos ticket\n") || !strings.Contains(screen, "restarting nginx") || strings.Contains(screen, "\x1b") {
		t.Fatalf("screen after seeking to 4 s = %q", screen)
	}
	if !strings.Contains(screen, "done") {
		t.Fatalf("playback did not reach the end: %q", screen)
	}
	if max := browserRun(b, "read the seek bar", chromedp.Evaluate[float64](`+document.getElementById("player-seek").max`)); max != 6 {
		t.Errorf("seek bar max = %v, want 6", max)
	}
	b.shot("session", "desktop")
	b.do("narrow the viewport", chromedp.EmulateViewport(phoneWidth, phoneHeight))
	for _, p := range []struct{ name, path, ready string }{
		{"session", "/sessions/sess-1", "#player-screen"},
		{"sessions", "/sessions?q=kerberos", "#f-q"},
		{"hosts", "/hosts", ".table-wrap"},
	} {
		b.do("open "+p.path, chromedp.Navigate(h.ts.URL+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		b.fitsWidth(p.name, phoneWidth)
	}
}
