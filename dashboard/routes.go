package dashboard

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/ingest/errs"
)

// routes builds the engine: our own logger and recovery, security headers on
// everything, the viewer in every request's context, then pages and API.
func (s *Server) routes() *gin.Engine {
	r := gin.New()
	_ = r.SetTrustedProxies(nil)
	r.HandleMethodNotAllowed = true
	r.Use(s.requestLog, s.recovery, securityHeaders)
	r.GET("/static/:version/*path", s.handle(s.handleAsset))
	s.healthRoutes(r)

	r.Use(s.authenticate, s.validText)
	s.pageRoutes(r)
	api := r.Group("/api/v1")
	s.apiRoutes(api)

	r.NoRoute(s.handle(func(c *gin.Context) error {
		return errs.E(errs.NotFound, "there is no page at %s", c.Request.URL.Path)
	}))
	r.NoMethod(func(c *gin.Context) {
		c.JSON(http.StatusMethodNotAllowed, ErrorBody{Error: APIError{Kind: "method_not_allowed",
			Message: c.Request.Method + " is not allowed here"}})
	})
	return r
}
