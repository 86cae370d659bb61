package bench

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var databaseURLs = []struct {
	server, name, want string
	fails              bool
}{
	{server: "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", name: "staffroom_bench",
		want: "postgres://postgres@127.0.0.1:5432/staffroom_bench?sslmode=disable"},
	{server: "postgresql://u:p@db/", name: "b", want: "postgresql://u:p@db/b"},
	{server: "sqlite:///tmp/x.db", name: "b", fails: true},
	{server: "postgres://db/x", name: "a/b", fails: true},
}

func TestWithDatabase(t *testing.T) {
	for _, tc := range databaseURLs {
		got, err := withDatabase(tc.server, tc.name)
		if (err != nil) != tc.fails || got != tc.want {
			t.Errorf("withDatabase(%q, %q) = %q, %v; want %q, failure %v", tc.server, tc.name, got, err, tc.want, tc.fails)
		}
	}
}

func TestWriteSectionKeepsTheHandWrittenText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	if err := writeSection(path, "first\n"); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(path)
	edited := strings.Replace(string(page), "# Benchmarks\n", "# Benchmarks\n\nBy hand, above.\n", 1) + "\nBy hand, below.\n"
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeSection(path, "second\n"); err != nil {
		t.Fatal(err)
	}
	page, _ = os.ReadFile(path)
	text := string(page)
	for _, want := range []string{"By hand, above.", "second\n", "By hand, below."} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "first") || strings.Count(text, sectionBegin) != 1 {
		t.Errorf("the old section survived:\n%s", text)
	}
}

func TestCanonicalIgnoresTheOrderOfGroups(t *testing.T) {
	a, err := canonical([]byte(`{"data":{"node":{"id":"m","groups":[{"name":"b"},{"name":"a"}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := canonical([]byte(`{"data":{"node":{"id":"m","groups":[{"name":"a"},{"name":"b"}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("%v != %v", a, b)
	}
}

func TestResetRefusesADatabaseNotNamedForTheBenchmark(t *testing.T) {
	// Refused before connecting: the server URL points nowhere.
	err := resetDatabase(t.Context(), database{serverURL: "postgres://nobody@127.0.0.1:1/postgres", name: "staffroom"})
	if err == nil || !strings.Contains(err.Error(), "says bench") {
		t.Errorf("reset of %q: %v; want a refusal", "staffroom", err)
	}
}

// A report of made-up figures: each budget line judges the figure it names.
func TestBudgetJudgesEachTarget(t *testing.T) {
	read := func(name string, floorShare16, floorShare64, allocs float64, openP99 time.Duration) result {
		res := result{scenario: scenario{name: name, floor: &side{}}}
		for _, c := range []int{1, 16, 64} {
			share := map[int]float64{1: 0.5, 16: floorShare16, 64: floorShare64}[c]
			res.rows = append(res.rows, row{clients: c,
				graphql: measurement{clients: c, requests: 1000, throughput: 1000 * share * float64(c) / 64, allocs: allocs, peakRSS: 70e6},
				floor:   measurement{clients: c, requests: 1000, throughput: 1000 * float64(c) / 64, peakRSS: 60e6}})
		}
		res.open = measurement{rate: res.peak() / 2, requests: 100, throughput: res.peak() / 2, p99: openP99}
		res.openFloor = measurement{rate: res.peak() / 2, requests: 100, throughput: res.peak() / 2, p99: time.Millisecond}
		return res
	}
	login := result{scenario: scenario{name: "logIn"}, rows: []row{
		{clients: 1, graphql: measurement{clients: 1, requests: 10, peakRSS: 110e6}},
		{clients: 16, graphql: measurement{clients: 16, requests: 10, peakRSS: 151e6, memory: memoryPeak{rss: 151e6}}},
		{clients: 64, graphql: measurement{clients: 64, requests: 10, peakRSS: 140e6, memory: memoryPeak{rss: 140e6}}},
	}}
	r := &report{
		machine: machine{peakResets: true},
		options: options{concurrency: []int{1, 16, 64}, open: 0.5, warmup: time.Second, duration: 5 * time.Second},
		results: []result{
			read("viewer", 0.6, 0.45, 1100, 3*time.Millisecond),
			read("members", 0.4, 0.4, 5001, 24*time.Millisecond),
			read("node", 0.5, 0.5, 800, 2*time.Millisecond),
			read("instructor", 0.7, 0.59, 9000, 30*time.Millisecond),
			login,
		},
	}
	md := r.markdown()
	for _, want := range []string{
		"| `viewer` throughput at 16 clients | ≥ 50% of its floor | 60% | met |",
		"| `viewer` throughput at 64 clients | ≥ 50% of its floor | 45% | **missed** |",
		"| `members` throughput at 64 clients | ≥ 40% of its floor | 40% | met |",
		"| `node` throughput at 64 clients | ≥ 50% of its floor | 50% | met |",
		"| `instructor` throughput at 64 clients | ≥ 60% of its floor | 59% | **missed** |",
		"| `members` allocations per request at 64 clients | ≤ 5,000 | 5,001 | **missed** |",
		"| `viewer` allocations per request at 64 clients | ≤ 1,200 | 1,100 | met |",
		"| p99 of every read, open loop at half of its peak | < 25 ms | viewer 3.00 ms, members 24.0 ms, node 2.00 ms, instructor 30.0 ms | **missed** |",
		"| peak RSS, whole run but `logIn` | < 150 MB | 70 MB | met |",
		"| peak RSS during `logIn`, up to 64 concurrent log-ins (reported apart) | < 150 MB | 151 MB | **missed** |",
		"Memory during `logIn` at 16 clients, its run with the highest peak, at the largest resident set sampled (151 MB)",
		"### Open loop at half of peak",
		"| viewer | 450 | 225/s | 225 | 0.00 ms | 0.00 ms | 3.00 ms | 0.00 ms | 1.00 ms | met |",
		"| instructor | 590 | 295/s | 295 | 0.00 ms | 0.00 ms | 30.0 ms | 0.00 ms | 1.00 ms | **missed** |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(md, "p99 of every read at") {
		t.Errorf("the report still judges the closed loop's p99:\n%s", md)
	}
	if t.Failed() {
		t.Log(md)
	}
}

func TestThousands(t *testing.T) {
	for f, want := range map[float64]string{0: "0", 950: "950", 1200: "1,200", 13593.4: "13,593", 1234567: "1,234,567"} {
		if got := thousands(f); got != want {
			t.Errorf("thousands(%v) = %q, want %q", f, got, want)
		}
	}
}
