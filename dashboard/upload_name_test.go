package dashboard_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/collate-project/collate/dashboard"
)

// TestUploadFileNames sends file names that are not UTF-8 or hold control
// characters: each is refused with 422 and a message naming the part, never
// a 500, and nothing is stored.
func TestUploadFileNames(t *testing.T) {
	f := mustFixture(t)
	good := mustJSON(t, mustExample(t, "UPLOAD-NAME-2024-01"))
	for _, tc := range []struct {
		name string
		file string
		want string
	}{
		{"latin-1 byte", "r\xe9sum\xe9.json", `part 1 of "files": the file name "r\xe9sum\xe9.json" is not valid UTF-8`},
		{"truncated sequence", "review-\xe2\x82.json", `part 1 of "files": the file name "review-\xe2\x82.json" is not valid UTF-8`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/reviews", "/upload"} {
				resp, body := f.postFiles(t, path, map[string][]byte{tc.file: good}, "")
				if resp.StatusCode != http.StatusUnprocessableEntity {
					t.Fatalf("%s: status %d: %s", path, resp.StatusCode, body)
				}
				msg := string(body)
				if path == "/api/v1/reviews" {
					var got dashboard.ErrorBody
					if err := json.Unmarshal(body, &got); err != nil {
						t.Fatal(err)
					}
					msg = got.Error.Message
				}
				if !strings.Contains(msg, tc.want) && !strings.Contains(msg, strings.ReplaceAll(tc.want, `"`, "&#34;")) {
					t.Errorf("%s: message does not say %q:\n%s", path, tc.want, msg)
				}
			}
		})
	}
	t.Run("control character", func(t *testing.T) {
		// Go's multipart reader refuses the part header itself.
		resp, body := f.postFiles(t, "/api/v1/reviews", map[string][]byte{"review\x01.json": good}, "")
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("status %d: %s", resp.StatusCode, body)
		}
	})
	t.Run("raw body name", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, f.http.URL+"/api/v1/reviews?name="+url.QueryEscape("caf\xe9.json"), strings.NewReader(string(good)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	var n int
	if err := f.db.QueryRow(`SELECT count(*) FROM reviews WHERE review_id = 'UPLOAD-NAME-2024-01'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("stored %d reviews with a refused name (%v)", n, err)
	}
	t.Run("a folder in the name is dropped", func(t *testing.T) {
		resp, body := f.postFiles(t, "/api/v1/reviews", map[string][]byte{`C:\exports\ok.json`: good}, "")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var src string
		if err := f.db.QueryRow(`SELECT source_name FROM reviews WHERE review_id = 'UPLOAD-NAME-2024-01'`).Scan(&src); err != nil || src != "ok.json" {
			t.Errorf("source name %q (%v), want ok.json", src, err)
		}
	})
}
