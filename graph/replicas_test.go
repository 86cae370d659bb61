package graph_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"staffroom/internal/app/apptest"
	"staffroom/internal/store/storetest"
)

// twoServers starts two servers on one fresh database with one signing key:
// two replicas behind a load balancer, as far as the database can tell.
func twoServers(t *testing.T, d storetest.Dialect, env ...string) [2]*apptest.Server {
	a := apptest.New(t, d, env...)
	b := a.Restart(t, append([]string{"STAFFROOM_DATA_DIR=" + a.Config.DataDir}, env...)...)
	return [2]*apptest.Server{a, b}
}

// On PostgreSQL the limit of session operations per client address is one for
// every server on the database: requests beyond it are refused whichever
// server they reach. (SQLite serves one process, which counts in memory.)
func TestRateLimitIsSharedByServersOnOneDatabase(t *testing.T) {
	for _, d := range storetest.Dialects() {
		if d.Name != "postgres" {
			continue
		}
		t.Run(d.Name, func(t *testing.T) {
			servers := twoServers(t, d, "STAFFROOM_SESSION_RATE_LIMIT=4")
			var codes []string
			for i := range 6 {
				r := servers[i%2].Do(t, "", `mutation { requestPasswordReset(email: "nobody@example.com") }`, nil)
				codes = append(codes, strings.Join(r.Codes(), ","))
			}
			want := []string{"", "", "", "", "RATE_LIMITED", "RATE_LIMITED"}
			if !slices.Equal(codes, want) {
				t.Errorf("six requests across two servers with a limit of 4: %q, want %q", codes, want)
			}
		})
	}
}

// Parallel reset requests for one address, through two servers, send one
// email: the requests are counted one after the other in the database.
func TestParallelPasswordResetRequestsSendOneEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		servers := twoServers(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		servers[0].SignUp(t, "flood@example.com", "Flo", "Od")
		sent := len(servers[0].Mail.Sent())
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				r := servers[i%2].Do(t, "", `mutation { requestPasswordReset(email: "flood@example.com") }`, nil)
				if len(r.Errors) > 0 {
					t.Errorf("requestPasswordReset: %v", r.Codes())
				}
			})
		}
		wg.Wait()
		servers[0].Deliver(t)
		if n := len(servers[0].Mail.Sent()) - sent; n != 1 {
			t.Errorf("%d reset emails for 8 parallel requests, want 1", n)
		}
	})
}

// A log-out on one server and a refresh of the same login on another, at the
// same moment: whichever comes first, once the log-out has answered neither
// the refreshed tokens nor the old ones work anywhere.
func TestLogOutRacingARefreshLeavesNoSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		servers := twoServers(t, d, "STAFFROOM_SESSION_RATE_LIMIT=0")
		servers[0].SignUp(t, "racer@example.com", "Ray", "Cer")
		for round := range 8 {
			u := servers[0].LogIn(t, "racer@example.com", "")
			var refresh *apptest.Response
			var wg sync.WaitGroup
			wg.Go(func() {
				if r := servers[0].Do(t, u.Token, `mutation { logOut }`, nil); len(r.Errors) > 0 {
					t.Errorf("round %d: logOut: %v", round, r.Codes())
				}
			})
			wg.Go(func() { refresh = servers[1].Do(t, "", refreshMutation, map[string]any{"t": u.RefreshToken}) })
			wg.Wait()
			tokens := []string{u.Token}
			refreshTokens := []string{u.RefreshToken}
			if len(refresh.Errors) == 0 {
				var out refreshed
				refresh.Decode(t, &out)
				tokens = append(tokens, out.RefreshSession.AccessToken)
				refreshTokens = append(refreshTokens, out.RefreshSession.RefreshToken)
			}
			for _, s := range servers {
				for _, tok := range tokens {
					if r := s.Do(t, tok, `{ viewer { user { id } } }`, nil); r.Status != http.StatusUnauthorized {
						t.Fatalf("round %d: an access token works after logOut: %d %s", round, r.Status, r.Data)
					}
				}
			}
			for _, rt := range refreshTokens {
				if r := servers[1].Do(t, "", refreshMutation, map[string]any{"t": rt}); !slices.Equal(r.Codes(), []string{"UNAUTHENTICATED"}) {
					t.Fatalf("round %d: a refresh token works after logOut: %v %s", round, r.Codes(), r.Data)
				}
			}
		}
	})
}

// A throttled mutation that fails rolls its transaction back, but not its
// count: the counts commit on their own (on PostgreSQL through a pool apart,
// so that they never wait for the connection their own request holds).
func TestRateLimitCountsMutationsThatFail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d, "STAFFROOM_SESSION_RATE_LIMIT=2")
		var codes []string
		for range 3 {
			r := s.Do(t, "", `mutation { confirmEmailChange(token: "not-a-token") }`, nil)
			codes = append(codes, strings.Join(r.Codes(), ","))
		}
		if codes[2] != "RATE_LIMITED" || codes[0] == "" || codes[0] == "RATE_LIMITED" {
			t.Errorf("three failing confirmEmailChange with a limit of 2: %q, want two failures, then RATE_LIMITED", codes)
		}
	})
}
