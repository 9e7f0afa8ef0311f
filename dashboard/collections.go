package dashboard

import "github.com/gin-gonic/gin"

// savedCollection reports whether code names a saved collection.
func (s *Server) savedCollection(code string) bool { return false }

// pickerGroups is the switcher's list for this viewer: geography first, then
// saved collections.
func (s *Server) pickerGroups(c *gin.Context) []collectionGroup { return s.picker }
