package dashboard

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// ReadyTimeout bounds how long /readyz waits for Options.Ready.
const ReadyTimeout = 2 * time.Second

// healthRoutes registers the probes. They come before authentication (and
// Access lets them through), so an orchestrator needs no account, and their
// bodies say nothing about the data.
//
//   - /healthz answers 200 while the process can serve HTTP at all.
//   - /readyz answers 200 only if Options.Ready says the store is open,
//     migrated and answering a trivial query within ReadyTimeout; otherwise
//     503, with the reason in the log and not in the body.
func (s *Server) healthRoutes(r *gin.Engine) {
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		r.Handle(method, "/healthz", s.handleHealthz)
		r.Handle(method, "/readyz", s.handleReadyz)
	}
}

func (s *Server) handleHealthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.String(http.StatusOK, "ok\n")
}

func (s *Server) handleReadyz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	if err := s.ready(c.Request.Context()); err != nil {
		s.log.Warn("not ready", "error", err.Error())
		c.String(http.StatusServiceUnavailable, "not ready\n")
		return
	}
	c.String(http.StatusOK, "ready\n")
}

// ready runs Options.Ready with a deadline. A server without a Ready check
// (tests over a fake analytics) is ready when it can answer.
func (s *Server) ready(ctx context.Context) error {
	if s.opts.Ready == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	errc := make(chan error, 1)
	// The check runs beside the deadline, so a driver that does not honour
	// cancellation still cannot hold the probe past it.
	go func() { errc <- s.opts.Ready(ctx) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
