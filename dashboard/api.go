package dashboard

import "github.com/gin-gonic/gin"

func (s *Server) apiRoutes(api *gin.RouterGroup) {
	api.POST("/reviews", s.handle(s.handleAPIUpload))
}
