// Package migrations embeds the versioned SQL migrations of both databases. The
// files are generated from the ent schema (make migration NAME=…) and never
// edited after they have been released.
package migrations

import "embed"

// FS holds one directory of migrations per dialect: postgres/ and sqlite/.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
