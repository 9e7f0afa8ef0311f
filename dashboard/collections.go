package dashboard

import (
	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/analytics"
)

// UK is the collection of every review in Collate.
const UK = analytics.UK

// pickerGroups is the switcher's list for this viewer: the geography, then
// the saved collections analytics offers. When analytics cannot list them the
// geography alone is offered.
func (s *Server) pickerGroups(c *gin.Context) []collectionGroup {
	cols, err := s.an.Collections(c.Request.Context(), viewerFrom(c))
	if err != nil || cols == nil || len(cols.Saved) == 0 {
		return s.picker
	}
	grp := collectionGroup{Label: "Saved collections"}
	for _, sc := range cols.Saved {
		label := sc.Title
		if label == "" {
			label = sc.Name
		}
		grp.Options = append(grp.Options, collectionOption{Value: analytics.SavedPrefix + sc.Name, Label: label})
	}
	return append(append([]collectionGroup(nil), s.picker...), grp)
}
