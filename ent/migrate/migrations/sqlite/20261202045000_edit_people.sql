-- Editing people and required member fields. Columns are added in place:
-- rebuilding users and organizations would trip the foreign keys that point at
-- them, which SQLite cannot switch off inside the migration's transaction.
ALTER TABLE `organizations` ADD COLUMN `required_member_fields` json NULL;
ALTER TABLE `users` ADD COLUMN `password_temporary` bool NOT NULL DEFAULT (false);
CREATE TABLE `email_changes` (`id` text NOT NULL, `user_id` text NOT NULL, `new_email` text NOT NULL, `token_hash` blob NOT NULL, `requested_by` text NULL, `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, PRIMARY KEY (`id`));
CREATE UNIQUE INDEX `email_changes_token_hash_key` ON `email_changes` (`token_hash`);
CREATE INDEX `emailchange_user_id_created_at` ON `email_changes` (`user_id`, `created_at`);
