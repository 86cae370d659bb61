package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"staffroom/internal/app/apptest"
	"staffroom/internal/demo"
	"staffroom/internal/store/storetest"
)

// walkThrough returns the shell blocks of the README's walk-through, in order.
func walkThrough(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "## Walk-through\n")
	if !ok {
		t.Fatal("README.md has no walk-through")
	}
	section, _, _ = strings.Cut(section, "\n### ")
	var blocks []string
	for {
		var block string
		if _, section, ok = strings.Cut(section, "```sh\n"); !ok {
			break
		}
		block, section, _ = strings.Cut(section, "```")
		blocks = append(blocks, block)
	}
	if len(blocks) < 5 {
		t.Fatalf("the walk-through has %d shell blocks", len(blocks))
	}
	return strings.Join(blocks, "\n")
}

// The README's walk-through works when pasted: its shell blocks run in order
// against a server with the demo data, and each step answers what the text says.
func TestReadmeWalkThrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "grep", "cut"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the walk-through needs %s: %v", tool, err)
		}
	}
	script := walkThrough(t)
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		services := demo.Services{Client: s.DB.Client, Auth: s.App.Auth, Invitations: s.App.Invitations}
		if err := demo.Seed(context.Background(), services, io.Discard); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Env = append(os.Environ(), "API="+s.URL+"/graphql")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the walk-through failed: %v\n%s", err, out)
		}
		for _, want := range []string{
			`"name":"Riverside Activity Centre"`,           // the owner's viewer
			`"email":"zoe@example.com","status":"PENDING"`, // the invitation
			`{"node":{"action":"member.invited"`,           // the audit log, newest first
			`"groups":{"totalCount":2`,                     // the instructor's classes only
			`"billingEmail":null`, `"code":"FORBIDDEN"`,    // and no billing
			`{"organization":{"name":"Harbour Rowing"},"role":{"key":"owner"}}`, // the switcher after refreshing
		} {
			if !strings.Contains(string(out), want) {
				t.Errorf("the walk-through's output lacks %s:\n%s", want, out)
			}
		}
		if n := strings.Count(string(out), `"errors"`); n != 1 {
			t.Errorf("%d responses with errors, want only the instructor's billing one:\n%s", n, out)
		}
	})
}
