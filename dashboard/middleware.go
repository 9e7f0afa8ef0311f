package dashboard

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/ingest/errs"
)

// csp allows only this origin's own scripts and styles: no inline script, no
// inline event handlers, no framing. Chart PNGs are data: and blob: images.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Next()
}

// requestLog logs one line per request at its end.
func (s *Server) requestLog(c *gin.Context) {
	start := time.Now()
	id := requestID()
	c.Header("X-Request-Id", id)
	c.Next()
	status := c.Writer.Status()
	s.opts.Metrics.observeRequest(c.FullPath(), c.Request.Method, status, time.Since(start))
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelWarn
	}
	s.log.Log(c.Request.Context(), level, "request",
		"request_id", id, "method", c.Request.Method, "path", c.Request.URL.Path,
		"route", c.FullPath(), "status", status, "bytes", c.Writer.Size(),
		"elapsed_ms", float64(time.Since(start).Microseconds())/1000)
}

// recovery turns a panic into a logged internal error and a clean 500; the
// stack goes to the log, never to the client.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic serving request", "path", c.Request.URL.Path, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			c.Abort()
			s.fail(c, errs.E(errs.Internal, "panic"))
		}
	}()
	c.Next()
}

func requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
