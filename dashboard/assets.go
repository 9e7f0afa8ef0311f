package dashboard

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/ingest/errs"
)

// static holds the stylesheet and the built scripts (static/dist, filled by
// `npm ci && npm run build`; a clean clone has only its README there).
//
//go:embed static
var static embed.FS

// assets is the embedded static tree with a content hash as its version, so
// URLs change whenever any file changes and can be cached for a year.
type assets struct {
	files   map[string][]byte
	version string
}

func loadAssets() (*assets, error) {
	a := &assets{files: map[string][]byte{}}
	var names []string
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		a.files[name] = b
		names = append(names, name)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dashboard: assets: %w", err)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(a.files[n]))
		h.Write(a.files[n])
	}
	a.version = hex.EncodeToString(h.Sum(nil))[:12]
	return a, nil
}

// built reports whether the front-end build has been run.
func (a *assets) built() bool {
	_, ok := a.files["dist/charts.js"]
	return ok
}

// handleAsset serves /static/VERSION/PATH. The current version is cached for a
// year; any other version is served uncached so an old page still works.
func (s *Server) handleAsset(c *gin.Context) error {
	name := strings.TrimPrefix(path.Clean(c.Param("path")), "/")
	body, ok := s.assets.files[name]
	if !ok || strings.HasSuffix(name, ".txt") {
		return errs.E(errs.NotFound, "no such file")
	}
	if c.Param("version") == s.assets.version {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "no-cache")
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	c.Header("ETag", `"`+s.assets.version+`"`)
	if c.GetHeader("If-None-Match") == `"`+s.assets.version+`"` {
		c.Status(http.StatusNotModified)
		return nil
	}
	c.Data(http.StatusOK, ctype, body)
	return nil
}

func contentHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
