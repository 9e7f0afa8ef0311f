package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

//go:embed templates
var templateFS embed.FS

// pageSet holds one parsed template per page, each with the shared layout and
// partials. It is built once at start-up and only read afterwards.
type pageSet struct {
	pages map[string]*template.Template
}

func parsePages(assetVersion string) (*pageSet, error) {
	funcs := template.FuncMap{
		"asset":      func(name string) string { return "/static/" + assetVersion + "/" + name },
		"with_query": withQuery,
		"add":        func(a, b int) int { return a + b },
	}
	entries, err := fs.Glob(templateFS, "templates/page_*.html")
	if err != nil {
		return nil, err
	}
	ps := &pageSet{pages: map[string]*template.Template{}}
	for _, e := range entries {
		name := strings.TrimSuffix(strings.TrimPrefix(path.Base(e), "page_"), ".html")
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/partials.html", e)
		if err != nil {
			return nil, fmt.Errorf("dashboard: parse template %s: %w", name, err)
		}
		ps.pages[name] = t
	}
	return ps, nil
}

// render writes page name with status 200.
func (s *Server) render(c *gin.Context, name string, vm any) error {
	return s.renderWith(c, http.StatusOK, name, vm)
}

// renderStatus renders for the error adapter, which has nowhere to return to:
// if the error page itself fails, a plain 500 is written.
func (s *Server) renderStatus(c *gin.Context, status int, name string, vm any) {
	if err := s.renderWith(c, status, name, vm); err != nil {
		s.log.Error("render error page", "error", err)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal server error\n"))
	}
}

// renderWith executes into a buffer first, so a template failure becomes a
// clean 500 from the error adapter instead of half a page with status 200.
func (s *Server) renderWith(c *gin.Context, status int, name string, vm any) error {
	t, ok := s.pages.pages[name]
	if !ok {
		return fmt.Errorf("render: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", vm); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	return nil
}

// withQuery returns path with the query q plus the given key/value pairs
// replacing any of the same key; an empty value removes the key.
func withQuery(p string, q url.Values, kv ...string) string {
	v := url.Values{}
	for k, vs := range q {
		v[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return p
	}
	return p + "?" + v.Encode()
}
