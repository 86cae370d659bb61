-- Create "rate_limit_windows" table
CREATE TABLE `rate_limit_windows` (`id` text NOT NULL, `scope` text NOT NULL, `key` text NOT NULL, `window_start` datetime NOT NULL, `events` integer NOT NULL, PRIMARY KEY (`id`));
-- Create index "ratelimitwindow_scope_key" to table: "rate_limit_windows"
CREATE UNIQUE INDEX `ratelimitwindow_scope_key` ON `rate_limit_windows` (`scope`, `key`);
-- Create index "ratelimitwindow_window_start" to table: "rate_limit_windows"
CREATE INDEX `ratelimitwindow_window_start` ON `rate_limit_windows` (`window_start`);
