package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"staffroom/internal/store"
	"staffroom/internal/store/storetest"
)

// Through PgBouncer in transaction mode, with transaction pooling on, parallel
// statements of two kinds each get their own answer, and migrations apply
// once (under a lock that is the transaction's).
func TestTransactionPoolingThroughPgBouncer(t *testing.T) {
	direct := storetest.PostgresURL(t)
	bounced := storetest.PgBouncer(t, direct)
	ctx := context.Background()
	open := func(opts store.Options) *store.DB {
		db, err := store.Open(ctx, bounced, t.TempDir(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	pooled := open(store.Options{TransactionPooling: true, MaxOpenConns: 16, StatementCache: store.DefaultStatementCache})
	if _, err := store.Migrate(ctx, pooled); err != nil {
		t.Fatalf("migrate through PgBouncer: %v", err)
	}
	if applied, err := store.Migrate(ctx, pooled); err != nil || len(applied) != 0 {
		t.Fatalf("second migration through PgBouncer: %v, %v", applied, err)
	}
	if errs, wrong := crossedAnswers(pooled.SQL); errs+wrong > 0 {
		t.Errorf("with transaction pooling: %d errors and %d wrong answers of %d", errs, wrong, probes)
	}
	if errs, wrong := crossedAnswers(pooled.Apart); errs+wrong > 0 {
		t.Errorf("the pool apart, with transaction pooling: %d errors and %d wrong answers of %d", errs, wrong, probes)
	}
	// What the setting prevents, for the record: without it lib/pq's two
	// exchanges of one statement may reach two server connections.
	errs, wrong := crossedAnswers(open(store.Options{MaxOpenConns: 16}).SQL)
	t.Logf("without transaction pooling: %d errors and %d wrong answers of %d", errs, wrong, probes)
}

const probes = 16 * 100

// crossedAnswers runs two kinds of statement with an argument from 16
// goroutines at once and counts the errors and the answers that are not
// their own statement's.
func crossedAnswers(db *sql.DB) (errs, wrong int64) {
	var nErrs, nWrong atomic.Int64
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range probes / 16 {
				query, want := `SELECT 'a' || $1::int`, fmt.Sprintf("a%d", i)
				if g%2 == 1 {
					query, want = `SELECT 'b' || ($1::int)::text`, fmt.Sprintf("b%d", i)
				}
				var got string
				if err := db.QueryRow(query, i).Scan(&got); err != nil {
					nErrs.Add(1)
				} else if got != want {
					nWrong.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return nErrs.Load(), nWrong.Load()
}
