package store

import (
	"context"
	"database/sql/driver"
	"errors"
)

// A pooler in transaction mode (PgBouncer's pool_mode = transaction) lends a
// server connection for one transaction at a time, and a statement outside a
// transaction is a transaction of its own. lib/pq runs a statement that has
// arguments as two exchanges, each ending in a Sync: parse and describe the
// unnamed statement, then bind and execute it. Between the two the pooler may
// lend the client another server connection, whose unnamed statement is
// whatever its last client parsed: the bind then runs another client's query
// with our arguments. Through PgBouncer 1.18, two kinds of query run in
// parallel got the other kind's answer about half the time.
//
// pooledConn therefore runs each statement that has arguments and is outside
// a transaction inside one of its own (BEGIN … COMMIT), which keeps both
// exchanges on one server connection; and it prepares nothing, since a named
// statement lives on one server connection too. It costs two round trips more
// per such statement.
type pooledConnector struct {
	driver.Connector
}

func (c pooledConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := conn.(pqConn)
	if !ok {
		conn.Close()
		return nil, errors.New("store: the PostgreSQL driver's connection lacks context methods")
	}
	return &pooledConn{pqConn: pc}, nil
}

// pooledConn is one client connection to the pooler. database/sql never uses
// a connection from two goroutines at once, so it needs no lock.
type pooledConn struct {
	pqConn
	// inTx is set while a transaction that database/sql began is open: its
	// statements stay on one server connection already.
	inTx bool
}

func (c *pooledConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.pqConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.inTx = true
	return pooledTx{Tx: tx, conn: c}, nil
}

type pooledTx struct {
	driver.Tx
	conn *pooledConn
}

func (t pooledTx) Commit() error {
	t.conn.inTx = false
	return t.Tx.Commit()
}

func (t pooledTx) Rollback() error {
	t.conn.inTx = false
	return t.Tx.Rollback()
}

func (c *pooledConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	// Without arguments lib/pq sends one simple query, which a pooler keeps
	// on one server connection.
	if c.inTx || len(args) == 0 {
		return c.pqConn.QueryContext(ctx, query, args)
	}
	if _, err := c.pqConn.ExecContext(ctx, "BEGIN", nil); err != nil {
		return nil, err
	}
	rows, err := c.pqConn.QueryContext(ctx, query, args)
	if err != nil {
		return nil, c.end(err)
	}
	return &committingRows{pqRows: rows.(pqRows), conn: c}, nil
}

func (c *pooledConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.inTx || len(args) == 0 {
		return c.pqConn.ExecContext(ctx, query, args)
	}
	if _, err := c.pqConn.ExecContext(ctx, "BEGIN", nil); err != nil {
		return nil, err
	}
	res, err := c.pqConn.ExecContext(ctx, query, args)
	return res, c.end(err)
}

// end commits the statement's own transaction, or after err rolls it back. It
// does not take the caller's context: a transaction left open would keep the
// pooler's server connection from everyone else.
func (c *pooledConn) end(err error) error {
	stmt := "COMMIT"
	if err != nil {
		stmt = "ROLLBACK"
	}
	_, endErr := c.pqConn.ExecContext(context.Background(), stmt, nil)
	if err != nil {
		return err
	}
	return endErr
}

// committingRows commits the transaction of their statement when closed.
type committingRows struct {
	pqRows
	conn *pooledConn
}

func (r *committingRows) Close() error {
	return r.conn.end(r.pqRows.Close())
}
