-- Time-boxed access: when a disabled period ends, when grants end (and the
-- earliest of them, which the expiry job looks for), and when a group link ends.
-- Memberships get their columns in place: rebuilding the table would trip the
-- foreign keys that point at it, which SQLite cannot switch off inside the
-- migration's transaction. The links table, which nothing points at, is rebuilt
-- as Atlas writes it, and gets back its index on group_id.
ALTER TABLE `memberships` ADD COLUMN `disabled_until` datetime NULL;
ALTER TABLE `memberships` ADD COLUMN `grant_expiries` json NULL;
ALTER TABLE `memberships` ADD COLUMN `next_grant_expiry` datetime NULL;
CREATE INDEX `membership_disabled_until` ON `memberships` (`disabled_until`);
CREATE INDEX `membership_next_grant_expiry` ON `memberships` (`next_grant_expiry`);
CREATE TABLE `new_membership_groups` (`until` datetime NULL, `membership_id` text NOT NULL, `group_id` text NOT NULL, PRIMARY KEY (`membership_id`, `group_id`), CONSTRAINT `membership_groups_memberships_membership` FOREIGN KEY (`membership_id`) REFERENCES `memberships` (`id`) ON DELETE CASCADE, CONSTRAINT `membership_groups_groups_group` FOREIGN KEY (`group_id`) REFERENCES `groups` (`id`) ON DELETE CASCADE);
INSERT INTO `new_membership_groups` (`membership_id`, `group_id`) SELECT `membership_id`, `group_id` FROM `membership_groups`;
DROP TABLE `membership_groups`;
ALTER TABLE `new_membership_groups` RENAME TO `membership_groups`;
CREATE INDEX `grouplink_until` ON `membership_groups` (`until`);
CREATE INDEX "membership_groups_group_id_idx" ON "membership_groups" ("group_id");
