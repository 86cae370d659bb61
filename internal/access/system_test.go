package access_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The system context is the one privacy bypass, for login, invitation
// acceptance and workers. Resolvers never use it: they act as the viewer.
func TestResolversDoNotUseTheSystemContext(t *testing.T) {
	files, err := filepath.Glob("../../graph/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no resolver files found: %v", err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), "SystemContext(") {
			t.Errorf("%s uses the system context", filepath.Base(f))
		}
	}
}
