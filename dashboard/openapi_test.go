package dashboard_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

type openAPIDoc struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

func mustOpenAPI(t *testing.T) ([]byte, openAPIDoc) {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	return raw, doc
}

var ginParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// TestOpenAPIRoutes checks that every route under /api/v1 is documented and
// every documented operation is a route, and that the server serves the
// same document.
func TestOpenAPIRoutes(t *testing.T) {
	raw, doc := mustOpenAPI(t)
	f := mustFakeServer(t)
	engine, ok := f.server.Handler().(*gin.Engine)
	if !ok {
		t.Fatal("the handler is not a gin engine")
	}
	registered := map[string]bool{}
	for _, r := range engine.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		p := ginParam.ReplaceAllString(strings.TrimPrefix(r.Path, "/api/v1"), "{$1}")
		key := strings.ToLower(r.Method) + " " + p
		registered[key] = true
		if _, ok := doc.Paths[p][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s is not in openapi.json", r.Method, r.Path)
		}
	}
	var documented []string
	for p, ops := range doc.Paths {
		for m := range ops {
			if m == "parameters" {
				continue
			}
			documented = append(documented, m+" "+p)
		}
	}
	sort.Strings(documented)
	for _, d := range documented {
		if !registered[d] {
			t.Errorf("openapi.json documents %s, which is not a route", d)
		}
	}
	resp, body := f.get(t, "/api/v1/openapi.json")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, raw) {
		t.Errorf("served document differs from openapi.json (status %d)", resp.StatusCode)
	}
}

// mustSchemas compiles the document's component schemas.
func mustSchemas(t *testing.T, raw []byte) func(name string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("https://collate.invalid/openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	return func(name string) *jsonschema.Schema {
		s, err := c.Compile("https://collate.invalid/openapi.json#/components/schemas/" + name)
		if err != nil {
			t.Fatalf("compile %s: %v", name, err)
		}
		return s
	}
}

// TestOpenAPIResponses checks a sample of responses against the shapes the
// document gives them, including errors and uploads.
func TestOpenAPIResponses(t *testing.T) {
	raw, _ := mustOpenAPI(t)
	schema := mustSchemas(t, raw)
	fake := mustFakeServer(t)
	cases := []struct {
		path, schema string
		status       int
	}{
		{"/api/v1/collections", "Collections", 200},
		{"/api/v1/frame", "FrameInfo", 200},
		{"/api/v1/overview?collection=ENG-NE&from=2020", "Overview", 200},
		{"/api/v1/process", "Process", 200},
		{"/api/v1/recurrence?tree=pattern&splits=true", "Recurrence", 200},
		{"/api/v1/breakdown?codes=FL.WORK.03,FL.WORK.01", "Breakdown", 200},
		{"/api/v1/compare?collection=ENG-NE", "Comparison", 200},
		{"/api/v1/funnel?code=FL.WORK.03", "Funnel", 200},
		{"/api/v1/trends?codes=FL.WORK.03", "Trends", 200},
		{"/api/v1/repeated-lessons", "RepeatedLessons", 200},
		{"/api/v1/cooccurrence?focus=FL.WORK.03", "CoOccurrence", 200},
		{"/api/v1/flows", "Flows", 200},
		{"/api/v1/good-practice", "GoodPractice", 200},
		{"/api/v1/recommendations", "Recommendations", 200},
		{"/api/v1/episodes?code=FL.WORK.03&page=2", "EpisodePage", 200},
		{"/api/v1/reviews?kind=statutory", "ReviewPage", 200},
		{"/api/v1/reviews/NOPE", "ErrorBody", 404},
		{"/api/v1/funnel", "ErrorBody", 422},
		{"/api/v1/overview?collection=NOWHERE", "ErrorBody", 422},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := fake.get(t, tc.path)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, truncate(body, 500))
			}
			validate(t, schema(tc.schema), body)
			if tc.status == 200 {
				golden(t, "api/"+strings.NewReplacer("/api/v1/", "", "/", "_", "?", "_", "&", "_", "=", "-", ",", "+").Replace(tc.path)+".json", indent(t, body))
			}
		})
	}
	t.Run("upload", func(t *testing.T) {
		resp, body := fake.postFiles(t, "/api/v1/reviews", map[string][]byte{"ok.json": mustJSON(t, mustExample(t, "OPENAPI-2024-01"))}, "")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		validate(t, schema("UploadReceipts"), body)
		resp, body = fake.postFiles(t, "/api/v1/reviews", map[string][]byte{"bad.json": []byte(`{"format": 1}`)}, "")
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		validate(t, schema("ErrorBody"), body)
	})
}

func validate(t *testing.T, s *jsonschema.Schema, body []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("response is not JSON: %v", err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("response does not match the documented shape: %v\n%s", err, truncate(body, 1500))
	}
}

func indent(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// TestOpenAPISearch checks the researchers' searches and downloads on a real
// store against the document: the JSON shapes, and that the content types
// the downloads answer with are the ones documented.
func TestOpenAPISearch(t *testing.T) {
	raw, _ := mustOpenAPI(t)
	schema := mustSchemas(t, raw)
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]json.RawMessage `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	f := mustFixture(t)
	for _, tc := range []struct {
		path, schema string
	}{
		{"/api/v1/search/recommendations?q=escalation&kind=1,2", "RecommendationPage"},
		{"/api/v1/search/recommendations?collection=ENG-NE&pattern_type=P4", "RecommendationPage"},
		{"/api/v1/search/patterns?q=work", "PatternPage"},
		{"/api/v1/search/patterns?code=P4&nature=unsafe", "PatternPage"},
		{"/api/v1/episodes?q=school", "EpisodePage"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := f.get(t, tc.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, truncate(body, 500))
			}
			validate(t, schema(tc.schema), body)
			p := strings.TrimPrefix(tc.path[:strings.Index(tc.path, "?")], "/api/v1")
			documented := doc.Paths[p]["get"].Responses["200"].Content
			for _, format := range []string{"csv", "parquet"} {
				resp, _ := f.get(t, tc.path+"&format="+format)
				ct, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
				if resp.StatusCode != http.StatusOK {
					t.Errorf("format=%s: status %d", format, resp.StatusCode)
				}
				if _, ok := documented[ct]; !ok {
					t.Errorf("format=%s answers %s, which openapi.json does not document for %s", format, ct, p)
				}
			}
		})
	}
}
