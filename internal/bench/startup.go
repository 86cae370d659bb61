package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// measureStartup starts this program as a server on a fresh SQLite data
// directory n times and returns how long each took from the start of the
// process to its first answer to { __typename }: migrations, the development
// signing key and the listener included.
func measureStartup(ctx context.Context, n int) ([]time.Duration, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var out []time.Duration
	for range n {
		d, err := startOnce(ctx, exe)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	slices.Sort(out)
	return out, nil
}

func startOnce(ctx context.Context, exe string) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "staffroom-startup-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, exe, "-addr", addr)
	cmd.Env = append(serverEnv(), "STAFFROOM_DATA_DIR="+dir, "STAFFROOM_LOG_LEVEL=warn")
	client := &http.Client{Timeout: time.Second}
	body := []byte(`{"query":"{ __typename }"}`)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	for time.Since(start) < 30*time.Second {
		res, err := client.Post("http://"+addr+"/graphql", "application/json", bytes.NewReader(body))
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, fmt.Errorf("bench: the server did not answer within 30s")
}

// serverEnv is the environment without the server's settings, so that the
// started server uses its defaults: the embedded SQLite database.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STAFFROOM_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			env = append(env, kv)
		}
	}
	return env
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
