package dashboard

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/analytics"
)

// Authenticator finds who made a request. It returns an Unauthenticated or
// Forbidden error (package ingest/errs) to refuse the request. Accounts and
// tokens (issue 5) plug in here; handlers only ever read the Viewer.
type Authenticator func(r *http.Request) (analytics.Viewer, error)

type viewerKey struct{}

// withViewer returns ctx carrying v.
func withViewer(ctx context.Context, v analytics.Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// authenticate puts the viewer into the request context, so that every
// analytics call made with that context is scoped to it.
func (s *Server) authenticate(c *gin.Context) {
	v := s.opts.DefaultViewer
	if s.opts.Authenticate != nil {
		var err error
		v, err = s.opts.Authenticate(c.Request)
		if err != nil {
			c.Abort()
			s.fail(c, err)
			return
		}
	}
	if err := v.Check(); err != nil {
		c.Abort()
		s.fail(c, err)
		return
	}
	c.Request = c.Request.WithContext(withViewer(c.Request.Context(), v))
	c.Next()
}

func viewerFrom(c *gin.Context) analytics.Viewer {
	v, _ := c.Request.Context().Value(viewerKey{}).(analytics.Viewer)
	return v
}
