package dashboard

import (
	"net/url"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/ingest/errs"
)

// validText refuses, before any handler reads it, a request whose path or
// query string decodes to bytes that are not UTF-8. Every parameter ends up
// bound into DuckDB queries, and DuckDB refuses such text (a list of it
// crashed the process in duckdb-go v2.10506.0: FuzzQueryString found
// /api/v1/reviews?kind=%ca). Links Collate makes are always UTF-8.
func (s *Server) validText(c *gin.Context) {
	if !utf8.ValidString(c.Request.URL.Path) || !validValues(c.Request.URL.Query()) {
		c.Abort()
		s.fail(c, errs.E(errs.Invalid, "the address holds bytes that are not UTF-8 text; follow a link from Collate or encode the request as UTF-8"))
		return
	}
	c.Next()
}

func validValues(q url.Values) bool {
	for k, vs := range q {
		if !utf8.ValidString(k) {
			return false
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return false
			}
		}
	}
	return true
}
