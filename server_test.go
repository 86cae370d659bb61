package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"staffroom/internal/config"
)

// The tests run the server as a user would, as a process of its own: this
// test binary, copied where any user may run it, acts as staffroom when
// STAFFROOM_TEST_RUN_MAIN is set. That spares a second build of the whole
// server.
var (
	copyOnce sync.Once
	binary   string
	copyErr  error
)

func TestMain(m *testing.M) {
	if os.Getenv("STAFFROOM_TEST_RUN_MAIN") == "1" {
		os.Args = append([]string{"staffroom"}, flagArgs(os.Args[1:])...)
		main()
		os.Exit(0)
	}
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// flagArgs drops the -test.* flags that the testing package needs no more.
func flagArgs(args []string) []string {
	var out []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-test.") {
			out = append(out, a)
		}
	}
	return out
}

func staffroomBinary(t *testing.T) string {
	t.Helper()
	copyOnce.Do(func() {
		self, err := os.Executable()
		if err != nil {
			copyErr = err
			return
		}
		dir, err := os.MkdirTemp("", "staffroom-bin-")
		if err != nil {
			copyErr = err
			return
		}
		binary = filepath.Join(dir, "staffroom")
		copyErr = errors.Join(os.Chmod(dir, 0o755), copyFile(self, binary))
	})
	if copyErr != nil {
		t.Fatalf("copy the test binary: %v", copyErr)
	}
	return binary
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}

// command returns the server's command with only env set.
func command(ctx context.Context, t *testing.T, dir string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(ctx, staffroomBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"STAFFROOM_TEST_RUN_MAIN=1"}, env...) // nothing else inherited
	return cmd
}

// runBinary runs the binary in dir with only env set, and returns its output
// and exit code.
func runBinary(t *testing.T, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := command(ctx, t, dir, env, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// Help, asked for in any usual way, lists every command with a line each and
// succeeds.
func TestHelpListsCommands(t *testing.T) {
	for _, args := range [][]string{{"-help"}, {"help"}, {"-h"}, {"serve", "-help"}} {
		dir := t.TempDir()
		stdout, stderr, code := runBinary(t, dir, nil, args...)
		if code != 0 {
			t.Errorf("staffroom %s exits %d: %s", strings.Join(args, " "), code, stderr)
		}
		for _, command := range []string{"serve", "migrate", "schema", "demo", "seed", "bench"} {
			if !regexp.MustCompile(`(?m)^  ` + command + ` +\S`).MatchString(stdout) {
				t.Errorf("staffroom %s does not list %s:\n%s", strings.Join(args, " "), command, stdout)
			}
		}
		if !strings.Contains(stderr, "STAFFROOM_CORS_ORIGINS") {
			t.Errorf("staffroom %s lists no settings:\n%s", strings.Join(args, " "), stderr)
		}
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Errorf("staffroom %s wrote %s", strings.Join(args, " "), entries[0].Name())
		}
	}
}

// A mistyped command says so and fails before it creates the data directory
// or a database.
func TestUnknownCommandTouchesNothing(t *testing.T) {
	dir := t.TempDir()
	_, stderr, code := runBinary(t, dir, nil, "sevre")
	if code != 2 || !strings.Contains(stderr, `unknown command "sevre"`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("an unknown command wrote %s", entries[0].Name())
	}
}

// staffroom schema prints the whole schema: a client generator can parse it,
// and it has the root types, ent's types and the hand-written ones.
func TestSchemaPrintsSDL(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := runBinary(t, dir, nil, "schema")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: stdout})
	if err != nil {
		t.Fatalf("the printed schema does not parse: %v", err)
	}
	for _, name := range []string{"Query", "Mutation", "Viewer", "Membership", "AuthPayload", "MembershipWhereInput"} {
		if schema.Types[name] == nil {
			t.Errorf("no type %s in the printed schema", name)
		}
	}
	if schema.Mutation == nil || schema.Mutation.Fields.ForName("switchOrganization") == nil {
		t.Error("no Mutation.switchOrganization in the printed schema")
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("schema wrote %s", entries[0].Name())
	}
}

// Development listens on this machine only; production on every interface, as
// documented. CORS for any origin is refused in production only.
func TestListenAddressAndCORSSettings(t *testing.T) {
	key := filepath.Join(t.TempDir(), "key.pem")
	prod := map[string]string{"STAFFROOM_ENV": "production", "STAFFROOM_SIGNING_KEY_FILE": key, "STAFFROOM_MAIL_SENDER": "log"}
	load := func(vars map[string]string, extra ...string) (config.Config, error) {
		env := map[string]string{}
		for k, v := range vars {
			env[k] = v
		}
		for _, kv := range extra {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		return config.Load(nil, func(k string) string { return env[k] })
	}
	if c, err := load(nil); err != nil || c.Addr != "127.0.0.1:8080" {
		t.Errorf("development listens on %q (%v)", c.Addr, err)
	}
	if c, err := load(prod); err != nil || c.Addr != ":8080" {
		t.Errorf("production listens on %q (%v)", c.Addr, err)
	}
	if _, err := load(prod, "STAFFROOM_CORS_ORIGINS=https://app.example.com,*"); err == nil {
		t.Error("production accepted STAFFROOM_CORS_ORIGINS=*")
	}
	if c, err := load(nil, "STAFFROOM_CORS_ORIGINS=*"); err != nil || len(c.CORSOriginList()) != 1 {
		t.Errorf("development refused STAFFROOM_CORS_ORIGINS=*: %v", err)
	}
	if _, err := load(nil, "STAFFROOM_CORS_ORIGINS=app.example.com"); err == nil {
		t.Error("an origin without a scheme was accepted")
	}
}

// The container image runs the binary as distroless's nonroot user (65532) on a
// /data directory the image creates for it: that user can start the server,
// write its key and database there, and serve.
func TestRunsAsNonRootOnFreshDataDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the server as another user")
	}
	const nonroot = 65532
	root, err := os.MkdirTemp("", "staffroom-image-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	data := filepath.Join(root, "data")
	if err := errors.Join(os.Chmod(root, 0o755), os.Mkdir(data, 0o755), os.Chown(data, nonroot, nonroot)); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := command(ctx, t, root, []string{"STAFFROOM_ADDR=127.0.0.1:0", "STAFFROOM_DATA_DIR=" + data})
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nonroot, Gid: nonroot}}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})

	url := ""
	lines := bufio.NewScanner(stdout)
	for url == "" && lines.Scan() {
		if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("the server did not start as uid %d: %s", nonroot, stderr.String())
	}
	go io.Copy(io.Discard, stdout) //nolint:errcheck // keep the log from blocking the server

	res, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %d", res.StatusCode)
	}
	for _, name := range []string{"staffroom.db", "signing-key.pem"} {
		info, err := os.Stat(filepath.Join(data, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if st := info.Sys().(*syscall.Stat_t); st.Uid != nonroot {
			t.Errorf("%s belongs to uid %d", name, st.Uid)
		}
	}
}

// The demo's logins share a published password: outside development the
// command refuses before it opens the database.
func TestDemoRefusedInProduction(t *testing.T) {
	dir := t.TempDir()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runBinary(t, dir, []string{"STAFFROOM_ENV=production", "STAFFROOM_SIGNING_KEY_FILE=" + keyFile,
		"STAFFROOM_MAIL_SENDER=log", "STAFFROOM_DATA_DIR=" + filepath.Join(dir, "data")}, "demo")
	if code == 0 || !strings.Contains(stderr, "refused outside development") {
		t.Errorf("demo in production: exit %d, stderr %q", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("demo in production wrote %s", entries[0].Name())
	}
}
