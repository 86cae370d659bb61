package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"

	"github.com/lib/pq"
)

// DefaultStatementCache bounds the statements kept prepared on one PostgreSQL
// connection. IN lists are sent as arrays (anyarray.go), so each query shape
// is one text whatever its lists' lengths; each costs the server a few
// kilobytes of memory per connection.
const DefaultStatementCache = 128

// lib/pq runs a query with arguments as an unnamed statement, which PostgreSQL
// parses and plans again on every execution; for ent's short queries planning
// costs more than executing. cachingConnector keeps the statements that each
// connection runs prepared, so that PostgreSQL reuses their plans and each query
// is one round trip instead of two.
type cachingConnector struct {
	driver.Connector
	size int
}

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := conn.(pqConn)
	if !ok {
		return conn, nil
	}
	return &cachingConn{pqConn: pc, size: c.size, stmts: map[string]*list.Element{}}, nil
}

// pqConn is what database/sql uses of a lib/pq connection; cachingConn passes
// all of it through but QueryContext and ExecContext.
type pqConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

// pqStmt is a lib/pq prepared statement.
type pqStmt interface {
	driver.Stmt
	driver.StmtQueryContext
	driver.StmtExecContext
}

// cachingConn is one connection with its prepared statements, least recently
// used last. database/sql never uses a connection from two goroutines at once,
// so it needs no lock.
type cachingConn struct {
	pqConn
	size  int
	lru   list.List // of *cachedStmt
	stmts map[string]*list.Element
	// reading is set while rows of a cached statement are open. lib/pq marks
	// only its own one-shot queries as in progress, so a second query now would
	// interleave its messages with the rows; it is refused, as lib/pq refuses
	// one during its own.
	reading bool
}

// errQueryInProgress answers a query sent while the rows of another are open.
var errQueryInProgress = errors.New("store: a query is already in progress on this connection")

type cachedStmt struct {
	query string
	stmt  pqStmt
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.reading {
		return nil, errQueryInProgress
	}
	if len(args) == 0 {
		// Without arguments lib/pq uses the simple protocol, one round trip already.
		return c.pqConn.QueryContext(ctx, query, args)
	}
	query, args = withArrays(query, args)
	st, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args)
	if err != nil {
		c.forgetIfStale(query, err)
		return nil, err
	}
	c.reading = true
	return &trackedRows{pqRows: rows.(pqRows), conn: c}, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.reading {
		return nil, errQueryInProgress
	}
	if len(args) == 0 {
		return c.pqConn.ExecContext(ctx, query, args)
	}
	query, args = withArrays(query, args)
	st, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(ctx, args)
	if err != nil {
		c.forgetIfStale(query, err)
	}
	return res, err
}

// prepared returns the statement for query, preparing it on first use and
// closing the least recently used one beyond the cache's size.
func (c *cachingConn) prepared(ctx context.Context, query string) (pqStmt, error) {
	if e, ok := c.stmts[query]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*cachedStmt).stmt, nil
	}
	s, err := c.pqConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := s.(pqStmt)
	if !ok {
		s.Close()
		return nil, errors.New("store: the PostgreSQL driver's statements lack context methods")
	}
	c.stmts[query] = c.lru.PushFront(&cachedStmt{query: query, stmt: st})
	for c.lru.Len() > c.size {
		oldest := c.lru.Back()
		c.lru.Remove(oldest)
		cs := oldest.Value.(*cachedStmt)
		delete(c.stmts, cs.query)
		if err := cs.stmt.Close(); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// forgetIfStale drops a statement that PostgreSQL no longer accepts: one whose
// result changed shape under a schema change, or one the server forgot. The
// statement is not closed, since the transaction may have been aborted; it goes
// with the connection.
func (c *cachingConn) forgetIfStale(query string, err error) {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) {
		return
	}
	switch pqErr.Code {
	case "0A000", // feature_not_supported: "cached plan must not change result type"
		"26000": // invalid_sql_statement_name
		if e, ok := c.stmts[query]; ok {
			c.lru.Remove(e)
			delete(c.stmts, query)
		}
	}
}

// pqRows is what database/sql uses of lib/pq's rows.
type pqRows interface {
	driver.Rows
	driver.RowsNextResultSet
	driver.RowsColumnTypeScanType
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypePrecisionScale
}

// trackedRows clears the connection's reading mark when the rows are closed.
type trackedRows struct {
	pqRows
	conn *cachingConn
}

func (r *trackedRows) Close() error {
	r.conn.reading = false
	return r.pqRows.Close()
}
