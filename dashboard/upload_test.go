package dashboard_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/collate-project/collate/dashboard"
	"github.com/collate-project/collate/ingest"
)

func TestAPIUpload(t *testing.T) {
	f := mustFixture(t)
	good := mustJSON(t, mustExample(t, "UPLOAD-OK-2024-01"))
	bad := []byte(`{"format": "collate.review/1", "review": {"id": 7}}`)

	t.Run("stored", func(t *testing.T) {
		resp, body := f.postFiles(t, "/api/v1/reviews", map[string][]byte{"good.json": good}, "application/json")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var got dashboard.UploadReceipts
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Receipts) != 1 || got.Receipts[0].ReviewID != "UPLOAD-OK-2024-01" || got.Receipts[0].Version != 1 ||
			got.Receipts[0].Outcome != ingest.Added || len(got.Receipts[0].SHA256) != 64 {
			t.Errorf("receipt = %+v", got.Receipts)
		}
		var n int
		if err := f.db.QueryRow(`SELECT count(*) FROM reviews WHERE review_id = 'UPLOAD-OK-2024-01'`).Scan(&n); err != nil || n != 1 {
			t.Errorf("stored rows = %d, %v", n, err)
		}
	})
	t.Run("same file again is unchanged", func(t *testing.T) {
		resp, body := f.postFiles(t, "/api/v1/reviews", map[string][]byte{"good.json": good}, "")
		if resp.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"outcome":"unchanged"`) {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	})
	t.Run("invalid file is refused with the CLI's problems", func(t *testing.T) {
		resp, body := f.postFiles(t, "/api/v1/reviews", map[string][]byte{"bad.json": bad, "good2.json": mustJSON(t, mustExample(t, "UPLOAD-NOT-STORED"))}, "")
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var got dashboard.ErrorBody
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		v, _ := ingest.NewValidator(ingest.ValidatorOptions{})
		_, cliErr := v.Validate("bad.json", bad)
		want, _ := cliErr.(ingest.Problems)
		if got.Error.Kind != "invalid" || len(want) == 0 {
			t.Fatalf("error = %+v, validator said %v", got.Error, cliErr)
		}
		if diff := cmp.Diff([]ingest.Problem(want), got.Error.Problems); diff != "" {
			t.Errorf("problems differ from the validator's (-cli +api):\n%s", diff)
		}
		var n int
		f.db.QueryRow(`SELECT count(*) FROM reviews WHERE review_id = 'UPLOAD-NOT-STORED'`).Scan(&n)
		if n != 0 {
			t.Errorf("a batch with an invalid file stored %d reviews", n)
		}
	})
	t.Run("raw JSON body", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, f.http.URL+"/api/v1/reviews?name=raw.json",
			strings.NewReader(string(mustJSON(t, mustExample(t, "UPLOAD-RAW-2024-01")))))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("nothing sent", func(t *testing.T) {
		resp, body := f.postFiles(t, "/api/v1/reviews", map[string][]byte{}, "")
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "choose at least one file") {
			t.Errorf("status %d: %s", resp.StatusCode, body)
		}
	})
}

func TestUploadForm(t *testing.T) {
	f := mustFixture(t)
	good := mustJSON(t, mustExample(t, "FORM-OK-2024-01"))
	bad := []byte(`{"format": "collate.review/1", "review": {"id": 7}}`)
	resp, body := f.postFiles(t, "/upload", map[string][]byte{"a-good.json": good, "b-bad.json": bad}, "text/html")
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", resp.StatusCode)
	}
	doc := mustParse(t, body)
	summary := findAll(doc, byClass("govuk-error-summary"))
	if len(summary) != 1 {
		t.Fatalf("want one error summary, got %d", len(summary))
	}
	links := findAll(summary[0], byTag("a"))
	if len(links) == 0 || !strings.HasPrefix(text(links[0]), "b-bad.json: /") {
		t.Errorf("summary links = %v", len(links))
	}
	if href, _ := attr(links[0], "href"); href != "#file-2" {
		t.Errorf("summary link goes to %q, want #file-2", href)
	}
	results := findAll(doc, byClass("upload-result"))
	if len(results) != 2 {
		t.Fatalf("want 2 results, got %d", len(results))
	}
	if got := text(results[0]); !strings.Contains(got, "Stored: review FORM-OK-2024-01, version 1 (added)") {
		t.Errorf("first result = %q", got)
	}
	if got := text(results[1]); !strings.Contains(got, "Not stored") {
		t.Errorf("second result = %q", got)
	}
}

func TestWorkbookTemplate(t *testing.T) {
	f := mustFixture(t)
	resp, body := f.get(t, "/upload/template.xlsx")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "spreadsheetml") {
		t.Errorf("Content-Type = %q", ct)
	}
	if !strings.HasPrefix(string(body), "PK") {
		t.Error("the template is not a zip (xlsx) file")
	}
	_, page := f.get(t, "/upload")
	links := findAll(mustParse(t, page), byAttr("href", "/upload/template.xlsx"))
	if len(links) != 1 {
		t.Errorf("%d links to the template on the upload page", len(links))
	}
}
