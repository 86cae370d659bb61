# Staffroom — the README explains every target.
GO ?= go
TEST_DATABASE_URL ?=

.PHONY: run demo test test-race generate migration lint bench

run: ## run the server on the embedded SQLite database
	$(GO) run .

demo: ## create the demo organization (a login for every role) on the embedded database
	$(GO) run . demo

test: ## run every test (set TEST_DATABASE_URL to run the database tests on PostgreSQL too)
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(GO) test ./...

test-race:
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(GO) test -race ./...

generate: ## regenerate ent and gqlgen code
	$(GO) generate ./...

migration: ## write a new migration for both databases: make migration NAME=add_something
	@test -n "$(NAME)" || (echo "usage: make migration NAME=add_something" && exit 1)
	$(GO) run ./internal/store/migrationgen -name $(NAME)

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go') && exit 1)

# The load benchmark's PostgreSQL server (it creates and drops its own database
# there) and extra flags for the bench command, e.g. BENCH_FLAGS='-duration 10s'.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
BENCH_FLAGS ?=

bench: ## seed a fresh benchmark database on PostgreSQL, load it, and rewrite docs/benchmarks.md
	BENCH_DATABASE_URL='$(BENCH_DATABASE_URL)' $(GO) run . seed -bench -reset
	BENCH_DATABASE_URL='$(BENCH_DATABASE_URL)' $(GO) run . bench $(BENCH_FLAGS)
