package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// IN lists reach PostgreSQL as one array argument: the same rows as the list,
// and one prepared statement whatever its length, NOT IN and the placeholders
// after the list included.
func TestInListsAreSentAsArrays(t *testing.T) {
	conn := postgresConn(t)
	ctx := context.Background()
	if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE words (w text, n int)`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO words SELECT 'w' || g, g FROM generate_series(0, 9) g`); err != nil {
		t.Fatal(err)
	}
	// IN or NOT IN a list of n, between two other arguments.
	list := func(column, op string, n int, value func(i int) any) (string, []any) {
		marks := make([]string, n)
		args := []any{"w9"}
		for i := range n {
			marks[i] = fmt.Sprintf("$%d", i+2)
			args = append(args, value(i))
		}
		return fmt.Sprintf(`SELECT w FROM words WHERE w <> $1 AND %s %s (%s) AND n < $%d ORDER BY n`,
			column, op, strings.Join(marks, ", "), n+2), append(args, 8)
	}
	words := func(q string, args []any) []string {
		t.Helper()
		r, err := conn.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var out []string
		for r.Next() {
			var w string
			if err := r.Scan(&w); err != nil {
				t.Fatal(err)
			}
			out = append(out, w)
		}
		return out
	}
	first := func(n int) []string {
		var out []string
		for i := range min(n, 8) {
			out = append(out, fmt.Sprintf("w%d", i))
		}
		return out
	}
	before := preparedCount(t, conn)
	for _, n := range []int{1, 3, 9} {
		text := func(i int) any { return fmt.Sprintf("w%d", i) }
		number := func(i int) any { return i }
		if got := words(list("w", "IN", n, text)); !slices.Equal(got, first(n)) {
			t.Errorf("IN %d words: %v, want %v", n, got, first(n))
		}
		if got := words(list("n", "IN", n, number)); !slices.Equal(got, first(n)) {
			t.Errorf("IN %d numbers: %v, want %v", n, got, first(n))
		}
		if got := words(list("w", "NOT IN", n, text)); len(got) != max(0, 8-n) {
			t.Errorf("NOT IN %d words: %v", n, got)
		}
	}
	// Three shapes, three lengths each: three statements.
	if n := preparedCount(t, conn) - before; n != 3 {
		t.Errorf("%d statements prepared, want 3", n)
	}
}
