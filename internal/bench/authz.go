package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"time"

	"staffroom/graph"
	"staffroom/internal/access"
	"staffroom/internal/requestmeta"
)

// authzResult compares the members query with every privacy rule to the same
// query under the system context, which bypasses privacy (directives still run).
type authzResult struct {
	privacy, system authzCost
	// ratios holds privacy's time per request over the system context's, one per
	// round: their median is the overhead, robust to a noisy neighbour.
	ratios []float64
}

type authzCost struct {
	perOp      time.Duration
	allocs     float64
	statements float64
	ops        int
}

// overhead is what authorization adds, as a fraction of the system context's time.
func (r authzResult) overhead() float64 {
	if len(r.ratios) == 0 {
		return 0
	}
	sorted := slices.Sorted(slices.Values(r.ratios))
	return sorted[len(sorted)/2] - 1
}

// measureAuthz runs the members query in-process through the GraphQL handler as
// the owner, alternating between the two contexts in rounds so that drift on a
// noisy machine affects both alike.
func measureAuthz(ctx context.Context, a *assembly, f *fixture, total time.Duration) (authzResult, error) {
	claims, err := a.app.Auth.Tokens().Verify(f.ownerToken)
	if err != nil {
		return authzResult{}, err
	}
	sys := access.SystemContext(ctx, "benchmark viewer")
	v, err := a.app.Auth.LoadViewer(sys, claims.UserID(), f.org, claims.SessionID())
	if err != nil {
		return authzResult{}, err
	}
	h := graph.NewHandler(graph.NewSchema(graph.Deps{Client: a.db.Client, Auth: a.app.Auth}), graph.HandlerOptions{
		Limits: graph.Limits{Complexity: a.cfg.ComplexityLimit, Depth: a.cfg.DepthLimit, Tokens: a.cfg.TokenLimit},
		Logger: discardLogger(),
	})
	body := graphqlBody(membersQuery, nil)
	viewerCtx := requestmeta.NewContext(access.NewContext(ctx, v), &requestmeta.Meta{})
	contexts := [2]context.Context{viewerCtx, access.SystemContext(viewerCtx, "benchmark baseline")}
	var (
		res     authzResult
		costs   [2]authzCost
		elapsed [2]time.Duration
		mallocs [2]uint64
		stmts   [2]int64
	)
	for _, c := range contexts { // warm both up
		if err := serveOnce(h, c, body); err != nil {
			return authzResult{}, err
		}
	}
	const rounds = 10
	for range rounds {
		var perOp [2]float64
		for k, c := range contexts {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			s0, start, n := a.db.Stats.Statements(), time.Now(), 0
			for ; time.Since(start) < total/(2*rounds); n++ {
				if err := serveOnce(h, c, body); err != nil {
					return authzResult{}, err
				}
			}
			d := time.Since(start)
			runtime.ReadMemStats(&after)
			perOp[k] = float64(d) / float64(n)
			costs[k].ops += n
			elapsed[k] += d
			stmts[k] += a.db.Stats.Statements() - s0
			mallocs[k] += after.Mallocs - before.Mallocs
		}
		res.ratios = append(res.ratios, perOp[0]/perOp[1])
	}
	for k := range costs {
		n := costs[k].ops
		costs[k].perOp = elapsed[k] / time.Duration(n)
		costs[k].allocs = float64(mallocs[k]) / float64(n)
		costs[k].statements = float64(stmts[k]) / float64(n)
	}
	res.privacy, res.system = costs[0], costs[1]
	return res, nil
}

func serveOnce(h http.Handler, ctx context.Context, body []byte) error {
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body)).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !graphqlOK(rec.Body.Bytes()) {
		return fmt.Errorf("bench: authorization run: %d %s", rec.Code, rec.Body.Bytes()[:min(rec.Body.Len(), 300)])
	}
	return nil
}
