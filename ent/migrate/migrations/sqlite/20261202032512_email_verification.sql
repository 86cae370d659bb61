-- Email verification. Columns are added in place: rebuilding users, memberships
-- and invitations would trip the foreign keys that point at them, which SQLite
-- cannot switch off inside the migration's transaction.
ALTER TABLE `invitations` ADD COLUMN `link_token_hash` blob NULL;
CREATE UNIQUE INDEX `invitations_link_token_hash_key` ON `invitations` (`link_token_hash`);
ALTER TABLE `memberships` ADD COLUMN `unverified_join` bool NOT NULL DEFAULT (false);
ALTER TABLE `users` ADD COLUMN `email_verified_at` datetime NULL;
ALTER TABLE `users` ADD COLUMN `email_unverified_legacy` bool NOT NULL DEFAULT (false);
CREATE TABLE `email_verifications` (`id` text NOT NULL, `user_id` text NOT NULL, `token_hash` blob NOT NULL, `password_hash` text NULL, `first_name` text NOT NULL DEFAULT (''), `last_name` text NOT NULL DEFAULT (''), `phone` text NULL, `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, PRIMARY KEY (`id`));
CREATE UNIQUE INDEX `email_verifications_token_hash_key` ON `email_verifications` (`token_hash`);
CREATE INDEX `emailverification_user_id_created_at` ON `email_verifications` (`user_id`, `created_at`);
-- Written by hand: existing logins are verified when their address received a
-- secret they used (an invitation they accepted, every one of which was emailed
-- before shareable links had tokens of their own, or a password reset). The time
-- of that proof is not kept, so their last update stands in for it.
UPDATE `users` SET `email_verified_at` = `updated_at` WHERE EXISTS (SELECT 1 FROM `invitations` AS `i` WHERE `i`.`email` = `users`.`email` AND `i`.`status` = 'ACCEPTED') OR EXISTS (SELECT 1 FROM `password_resets` AS `p` WHERE `p`.`user_id` = `users`.`id` AND `p`.`used_at` IS NOT NULL);
-- The others stay unverified, marked as existing (STAFFROOM_TRUST_EXISTING_EMAILS verifies them at start).
UPDATE `users` SET `email_unverified_legacy` = 1 WHERE `email_verified_at` IS NULL;
-- Their memberships came from creating organizations: the address's owner reviews them once proved.
UPDATE `memberships` SET `unverified_join` = 1 WHERE `user_id` IN (SELECT `id` FROM `users` WHERE `email_verified_at` IS NULL);
