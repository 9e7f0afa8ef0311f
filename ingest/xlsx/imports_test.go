package xlsx

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the package on ingest's side of the data flow: no web
// framework and no charts.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/gin-gonic/", "github.com/go-echarts/", "github.com/chromedp/"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("ingest/xlsx depends on %s", dep)
			}
		}
	}
}
