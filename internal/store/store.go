// Package store opens Staffroom's database — an embedded SQLite file by default,
// PostgreSQL when a postgres:// URL is given — and applies its migrations.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"
	"modernc.org/sqlite"

	"staffroom/ent"
	"staffroom/internal/names"
)

func init() {
	// ent and Atlas know SQLite as "sqlite3"; modernc's pure-Go driver registers
	// itself as "sqlite", so it is registered again under the name they expect.
	sql.Register(dialect.SQLite, &sqlite.Driver{})
}

// Options size the connection pool.
type Options struct {
	MaxOpenConns int
	MaxIdleConns int
	// StatementCache is how many statements each PostgreSQL connection keeps
	// prepared (DefaultStatementCache is the server's default); 0 prepares
	// none.
	StatementCache int
	// TransactionPooling says that the URL reaches PostgreSQL through a pooler
	// in transaction mode (PgBouncer's pool_mode = transaction): nothing is
	// prepared, whatever StatementCache says, and each statement with
	// arguments outside a transaction runs in one of its own (see pooler.go).
	TransactionPooling bool
}

// DB is an open database: the ent client, the pool behind it and a counter of
// the SQL statements the client has run.
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string
	Stats   *Counter
	// Apart is a pool of its own on the same PostgreSQL database, at most
	// ApartConns connections, for statements that commit on their own while
	// a request's transaction holds a connection of the main pool (the rate
	// limit counters): drawn from the main pool, such a statement could wait
	// for the connection its own request holds. Nil on SQLite.
	Apart *sql.DB
}

// ApartConns bounds the pool DB.Apart: its statements are single short
// upserts, which two connections serve thousands of a second.
const ApartConns = 2

// Close closes the pools.
func (db *DB) Close() error {
	if db.Apart != nil {
		db.Apart.Close()
	}
	return db.SQL.Close()
}

// SQLitePath is where the embedded database lives in a data directory.
func SQLitePath(dataDir string) string { return filepath.Join(dataDir, "staffroom.db") }

// Open opens the database that rawURL names: postgres:// or postgresql:// for
// PostgreSQL, sqlite:// followed by a file path, or "" for the SQLite file in
// dataDir. It does not migrate; call Migrate.
func Open(ctx context.Context, rawURL, dataDir string, opts Options) (*DB, error) {
	drv, dsn, err := dsnFor(rawURL, dataDir)
	if err != nil {
		return nil, err
	}
	pool, err := openPool(drv, dsn, opts)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", drv, err)
	}
	if opts.MaxOpenConns == 0 {
		opts.MaxOpenConns = 32
	}
	if opts.MaxIdleConns == 0 {
		// Every open connection stays idle: one closed after a burst is
		// reopened on the next, and reconnecting costs more than the query.
		// ConnMaxIdleTime returns them after a quiet spell.
		opts.MaxIdleConns = opts.MaxOpenConns
	}
	pool.SetMaxOpenConns(opts.MaxOpenConns)
	pool.SetMaxIdleConns(opts.MaxIdleConns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.PingContext(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", drv, err)
	}
	dia := dialect.SQLite
	if drv == "postgres" {
		dia = dialect.Postgres
	}
	counter := &Counter{Driver: entsql.OpenDB(dia, pool)}
	client := ent.NewClient(ent.Driver(counter))
	client.Use(names.Hook())
	db := &DB{
		Client:  client,
		SQL:     pool,
		Dialect: dia,
		Stats:   counter,
	}
	if dia == dialect.Postgres {
		// Opening connects nothing yet: the first statement does.
		if db.Apart, err = openPool(drv, dsn, opts); err != nil {
			pool.Close()
			return nil, fmt.Errorf("store: open %s: %w", drv, err)
		}
		db.Apart.SetMaxOpenConns(ApartConns)
		db.Apart.SetMaxIdleConns(ApartConns)
		db.Apart.SetConnMaxIdleTime(5 * time.Minute)
	}
	return db, nil
}

// openPool opens a pool on the driver; PostgreSQL's keeps statements
// prepared, or behind a transaction pooler keeps each statement on one server
// connection.
func openPool(drv, dsn string, opts Options) (*sql.DB, error) {
	if drv != "postgres" || (opts.StatementCache <= 0 && !opts.TransactionPooling) {
		return sql.Open(drv, dsn)
	}
	c, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	if opts.TransactionPooling {
		return sql.OpenDB(pooledConnector{Connector: c}), nil
	}
	return sql.OpenDB(cachingConnector{Connector: c, size: opts.StatementCache}), nil
}

// dsnFor returns the database/sql driver name and data source for a URL.
func dsnFor(rawURL, dataDir string) (string, string, error) {
	switch {
	case rawURL == "":
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return "", "", fmt.Errorf("store: create data directory: %w", err)
		}
		return dialect.SQLite, sqliteDSN(SQLitePath(dataDir)), nil
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return "postgres", rawURL, nil
	case strings.HasPrefix(rawURL, "sqlite://"):
		return dialect.SQLite, sqliteDSN(strings.TrimPrefix(rawURL, "sqlite://")), nil
	default:
		u, _ := url.Parse(rawURL)
		scheme := "?"
		if u != nil {
			scheme = u.Scheme
		}
		return "", "", fmt.Errorf("store: unsupported database URL scheme %q (use postgres:// or sqlite://)", scheme)
	}
}

// sqliteDSN turns on foreign keys and WAL, waits for locks instead of failing,
// and makes every transaction take the write lock at BEGIN: two transactions that
// read and then write cannot deadlock on lock upgrades.
func sqliteDSN(path string) string {
	// The path goes into a URI: a "?" or "#" in it (a test's name, a folder)
	// would otherwise end it early.
	path = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}
