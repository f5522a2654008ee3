package web_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

func ptePNGBytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 3, 3))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestEvidenceAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		risk, reader := h.tokens[vigil.RoleRiskOwner], h.tokens[vigil.RoleExternalAuditor]
		img := ptePNGBytes(t)

		// A PNG named .pdf is stored, and served, as a PNG.
		resp, body := h.pteUpload("POST", "/api/v1/evidence", risk, url.Values{
			"title": {"Firewall rules"}, "observed_from": {"2026-01-01"}, "observed_to": {"2026-01-31"}, "valid_until": {"2099-01-01"},
			"requirements": {"8.15, 8.20", "9.2.2"},
		}, "rules.pdf", img)
		pteWant(t, "upload", resp, body, 201, "")
		var e vigil.Evidence
		pteDecode(t, body, &e)
		sum := sha256.Sum256(img)
		if e.ContentType != "image/png" || e.SHA256 != hex.EncodeToString(sum[:]) || e.Filename != "rules.pdf" || len(e.Requirements) != 3 || e.Collector != h.users[vigil.RoleRiskOwner].ID {
			t.Fatalf("uploaded %+v", e)
		}
		if resp.Header.Get("Location") != "/api/v1/evidence/"+e.ID {
			t.Fatalf("Location %q", resp.Header.Get("Location"))
		}
		resp, body = h.api("GET", "/api/v1/evidence/"+e.Ref+"/download", reader, "")
		pteWant(t, "download", resp, body, 200, "")
		got := sha256.Sum256([]byte(body))
		if hex.EncodeToString(got[:]) != e.SHA256 {
			t.Fatal("downloaded bytes do not match the stored hash")
		}
		if resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
			resp.Header.Get("Content-Disposition") != `attachment; filename=rules.pdf` {
			t.Fatalf("download headers %v", resp.Header)
		}

		for _, c := range []struct {
			name   string
			fields url.Values
			file   string
			field  string
		}{
			{"bad date", url.Values{"title": {"x"}, "valid_until": {"01.01.2027"}}, "a.txt", "valid_until"},
			{"period backwards", url.Values{"title": {"x"}, "observed_from": {"2026-02-01"}, "observed_to": {"2026-01-01"}}, "a.txt", "observed_to"},
			{"unknown requirement", url.Values{"title": {"x"}, "requirements": {"8.99"}}, "a.txt", "requirements"},
			{"unknown policy", url.Values{"title": {"x"}, "policies": {"POL-404"}}, "a.txt", "policies"},
			{"collector not a member", url.Values{"title": {"x"}, "collector": {"admin@b.test"}}, "a.txt", "collector"},
			{"unknown field", url.Values{"title": {"x"}, "owner": {"me"}}, "a.txt", "owner"},
			{"no file", url.Values{"title": {"x"}}, "", "file"},
		} {
			resp, body = h.pteUpload("POST", "/api/v1/evidence", risk, c.fields, c.file, []byte("text"))
			pteWant(t, c.name, resp, body, 400, c.field)
		}
		resp, body = h.api("POST", "/api/v1/evidence", risk, `{"title":"json"}`)
		pteWant(t, "JSON instead of multipart", resp, body, 400, "content-type")
		resp, body = h.pteUpload("POST", "/api/v1/evidence", h.tokens[vigil.RoleEmployee], url.Values{"title": {"x"}}, "a.txt", []byte("x"))
		pteWant(t, "employee uploads", resp, body, 403, "")

		// 25 MiB is the limit: one byte more is refused with 413, whether
		// the length is announced or streamed.
		big := make([]byte, vigil.MaxUploadBytes+1)
		resp, body = h.pteUpload("POST", "/api/v1/evidence", risk, url.Values{"title": {"big"}}, "big.bin", big)
		pteWant(t, "oversize upload", resp, body, 413, "file")
		ct, mp := pteMultipart(t, url.Values{"title": {"big"}}, "big.bin", big)
		req, _ := http.NewRequest("POST", h.ts.URL+"/api/v1/evidence", io.MultiReader(mp)) // no Content-Length
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+risk)
		resp, body = do(t, req)
		pteWant(t, "oversize streamed upload", resp, body, 413, "file")
		resp, body = h.pteUpload("POST", "/api/v1/evidence", risk, url.Values{"title": {"at the limit"}}, "max.bin", big[:vigil.MaxUploadBytes])
		pteWant(t, "upload at the limit", resp, body, 201, "")

		// A stale item and the filters.
		resp, body = h.pteUpload("POST", "/api/v1/evidence", h.tokens[vigil.RoleInternalAuditor], url.Values{
			"title": {"Old scan"}, "valid_until": {"2020-01-01"}, "requirements": {"A.8.15"}}, "scan.csv", []byte("host,finding\n"))
		pteWant(t, "stale upload", resp, body, 201, "")
		var old vigil.Evidence
		pteDecode(t, body, &old)
		if !old.Stale || old.Requirements[0] != "8.15" {
			t.Fatalf("stale item %+v", old)
		}
		resp, body = h.api("GET", "/api/v1/evidence?requirement=8.15", reader, "")
		pteWant(t, "filter", resp, body, 200, "")
		if !strings.Contains(body, e.ID) || !strings.Contains(body, old.ID) {
			t.Fatalf("requirement filter: %s", body)
		}
		resp, body = h.api("GET", "/api/v1/evidence?requirement=8.15&stale=false", reader, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stale=false: %d", resp.StatusCode)
		}
		if !strings.Contains(body, e.ID) || strings.Contains(body, old.ID) {
			t.Fatalf("stale=false: %s", body)
		}
		resp, body = h.api("GET", "/api/v1/evidence?stale=maybe", reader, "")
		pteWant(t, "bad stale", resp, body, 400, "stale")
		resp, body = h.api("GET", "/api/v1/evidence", h.tokens[vigil.RoleEmployee], "")
		pteWant(t, "employee lists", resp, body, 403, "")
		counts, err := st.EvidenceCounts(t.Context(), h.orgA.ID)
		if err != nil || counts["8.15"] != 1 || counts["9.2.2"] != 1 {
			t.Fatalf("counts %v, %v", counts, err)
		}

		// Edit links and dates with JSON; delete.
		resp, body = h.api("PATCH", "/api/v1/evidence/"+e.ID, risk, `{"valid_until":"2020-12-31","requirements":["5.15"]}`)
		pteWant(t, "update", resp, body, 200, "")
		if !strings.Contains(body, `"stale":true`) || !strings.Contains(body, `"requirements":["5.15"]`) {
			t.Fatalf("updated: %s", body)
		}
		resp, body = h.api("PATCH", "/api/v1/evidence/"+e.ID, risk, `{"sha256":"00"}`)
		pteWant(t, "change the hash", resp, body, 400, "sha256")
		resp, body = h.api("DELETE", "/api/v1/evidence/"+e.ID, risk, "")
		pteWant(t, "risk owner deletes", resp, body, 403, "")
		resp, body = h.api("DELETE", "/api/v1/evidence/"+e.ID, h.tokens[vigil.RoleAdmin], "")
		pteWant(t, "delete", resp, body, 204, "")
		resp, body = h.api("GET", "/api/v1/evidence/"+e.ID+"/download", reader, "")
		pteWant(t, "download deleted", resp, body, 404, "")
	})
}

func TestEvidenceUI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		sess := h.session(h.users[vigil.RoleISMSManager].ID, h.orgA.ID)
		ct, body := pteMultipart(t, url.Values{"csrf_token": {csrfValue}, "title": {"Access review Q1"}, "requirements": {"5.18"},
			"valid_until": {"2099-03-31"}}, "review.txt", []byte("reviewed 12 accounts\n"))
		req, _ := http.NewRequest("POST", h.ts.URL+"/evidence", body)
		req.Header.Set("Content-Type", ct)
		req.AddCookie(&http.Cookie{Name: "vigil_csrf", Value: csrfValue})
		req.AddCookie(&http.Cookie{Name: "vigil_session", Value: sess})
		resp, page := do(t, req)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("UI upload: %d %s", resp.StatusCode, page)
		}
		loc := resp.Header.Get("Location")
		resp, page = h.ui("GET", loc, sess, nil, false)
		pteWant(t, "evidence page", resp, page, 200, "")
		if !strings.Contains(page, "Access review Q1") || !strings.Contains(page, "text/plain") {
			t.Fatal("evidence page lacks the upload")
		}
		resp, page = h.ui("GET", "/evidence?requirement=5.18", h.session(h.users[vigil.RoleViewer].ID, h.orgA.ID), nil, false)
		pteWant(t, "viewer's list", resp, page, 200, "")
		if !strings.Contains(page, "Access review Q1") || strings.Contains(page, "Upload evidence") {
			t.Fatal("viewer's evidence list is wrong")
		}
		path := loc[:strings.Index(loc, "?")]
		resp, page = h.ui("POST", path, sess, url.Values{"title": {"Access review Q1"}, "valid_until": {"2020-01-01"}, "requirements": {"5.18, 5.15"},
			"collector": {h.users[vigil.RoleISMSManager].ID}}, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("UI edit: %d %s", resp.StatusCode, page)
		}
		resp, page = h.ui("GET", path, sess, nil, false)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("evidence page: %d", resp.StatusCode)
		}
		if !strings.Contains(page, "(stale: collect it again)") || !strings.Contains(page, ">5.15<") {
			t.Fatal("edit not shown")
		}
		resp, page = h.ui("POST", path, sess, url.Values{"title": {"x"}, "observed_from": {"yesterday"}}, false)
		pteWant(t, "UI bad date", resp, page, 400, "")
		resp, page = h.ui("GET", path+"/download", sess, nil, false)
		if resp.StatusCode != 200 || page != "reviewed 12 accounts\n" {
			t.Fatalf("UI download: %d %q", resp.StatusCode, page)
		}
	})
}
