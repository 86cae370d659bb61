package store

import (
	"context"
	"fmt"

	"staffroom/ent"
)

// InTx runs fn in a transaction: the one of the GraphQL mutation in ctx when
// there is one (so that the mutation's writes and its audit event commit or roll
// back together), or else a new one that commits when fn succeeds.
func InTx(ctx context.Context, client *ent.Client, fn func(ctx context.Context, tx *ent.Client) error) error {
	if tx := ent.TxFromContext(ctx); tx != nil {
		return fn(ctx, tx.Client())
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	txCtx := ent.NewTxContext(ent.NewContext(ctx, tx.Client()), tx)
	if err := fn(txCtx, tx.Client()); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return fmt.Errorf("%w (rollback: %v)", err, rerr)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Client returns the client of the transaction in ctx, or base outside one. Reads
// in a mutation go through it so that they see the mutation's own writes.
func Client(ctx context.Context, base *ent.Client) *ent.Client {
	if c := ent.FromContext(ctx); c != nil {
		return c
	}
	return base
}
