# Staffroom — the README explains every target.
GO ?= go
TEST_DATABASE_URL ?=

.PHONY: run test test-race generate migration lint bench

run: ## run the server on the embedded SQLite database
	$(GO) run .

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

bench: ## the load benchmark is not built yet; Go benchmarks run meanwhile
	@echo "make bench: the load benchmark against the SQL floor is not built yet (see docs/benchmarks.md)."
	$(GO) test -run '^$$' -bench . -benchmem ./...
