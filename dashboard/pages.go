package dashboard

import "github.com/gin-gonic/gin"

func (s *Server) pageRoutes(r *gin.Engine) {
	r.GET("/upload", s.handle(s.handleUploadPage))
	r.POST("/upload", s.handle(s.handleUploadForm))
	r.GET("/upload/template.xlsx", s.handle(s.handleTemplate))
}
