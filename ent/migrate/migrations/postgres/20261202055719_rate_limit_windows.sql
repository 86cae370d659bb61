-- Create "rate_limit_windows" table
CREATE TABLE "rate_limit_windows" ("id" character varying NOT NULL, "scope" character varying NOT NULL, "key" character varying NOT NULL, "window_start" timestamptz NOT NULL, "events" bigint NOT NULL, PRIMARY KEY ("id"));
-- Create index "ratelimitwindow_scope_key" to table: "rate_limit_windows"
CREATE UNIQUE INDEX "ratelimitwindow_scope_key" ON "rate_limit_windows" ("scope", "key");
-- Create index "ratelimitwindow_window_start" to table: "rate_limit_windows"
CREATE INDEX "ratelimitwindow_window_start" ON "rate_limit_windows" ("window_start");
