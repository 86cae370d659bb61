package outbox

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// A worker's log says when rounds start failing, once however often they
// fail the same way, and when they succeed again; rounds with more work run
// without waiting.
func TestPollLogsEachTroubleOnce(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	down := errors.New("database is down")
	rounds := []struct {
		more bool
		err  error
	}{{true, nil}, {false, down}, {false, down}, {false, down}, {true, nil}, {false, nil}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	Poll(ctx, log, "test: working", time.Millisecond, func(context.Context) (bool, error) {
		r := rounds[n]
		n++
		if n == len(rounds) {
			cancel()
		}
		return r.more, r.err
	})
	if n != len(rounds) {
		t.Fatalf("%d rounds ran, want %d", n, len(rounds))
	}
	out := logs.String()
	if c := strings.Count(out, `msg="test: working" err="database is down"`); c != 1 {
		t.Errorf("the failure is logged %d times, want once:\n%s", c, out)
	}
	if c := strings.Count(out, `msg="test: working again"`); c != 1 {
		t.Errorf("the recovery is logged %d times, want once:\n%s", c, out)
	}
}
