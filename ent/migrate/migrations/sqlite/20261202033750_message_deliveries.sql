-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Add column "template_id" to table: "messages"
ALTER TABLE `messages` ADD COLUMN `template_id` text NULL;
-- Create "new_outbox_emails" table
CREATE TABLE `new_outbox_emails` (`id` text NOT NULL, `organization_id` text NULL, `channel` text NOT NULL DEFAULT ('EMAIL'), `to_address` text NOT NULL, `subject` text NOT NULL, `text_body` text NOT NULL, `html_body` text NOT NULL DEFAULT (''), `subject_id` text NOT NULL DEFAULT (''), `status` text NOT NULL DEFAULT ('QUEUED'), `attempts` integer NOT NULL DEFAULT (0), `next_attempt_at` datetime NOT NULL, `last_error` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `sent_at` datetime NULL, PRIMARY KEY (`id`));
-- Copy rows from old table "outbox_emails" to new temporary table "new_outbox_emails"
INSERT INTO `new_outbox_emails` (`id`, `organization_id`, `to_address`, `subject`, `text_body`, `html_body`, `subject_id`, `status`, `attempts`, `next_attempt_at`, `last_error`, `created_at`, `sent_at`) SELECT `id`, `organization_id`, `to_address`, `subject`, `text_body`, `html_body`, `subject_id`, `status`, `attempts`, `next_attempt_at`, `last_error`, `created_at`, `sent_at` FROM `outbox_emails`;
-- Drop "outbox_emails" table after copying rows
DROP TABLE `outbox_emails`;
-- Rename temporary table "new_outbox_emails" to "outbox_emails"
ALTER TABLE `new_outbox_emails` RENAME TO `outbox_emails`;
-- Create index "outboxemail_status_next_attempt_at" to table: "outbox_emails"
CREATE INDEX `outboxemail_status_next_attempt_at` ON `outbox_emails` (`status`, `next_attempt_at`);
-- Create "deliveries" table
CREATE TABLE `deliveries` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `via` text NOT NULL, `channel` text NOT NULL, `status` text NOT NULL, `reason` text NOT NULL DEFAULT (''), `outbox_email_id` text NULL, `sent_at` datetime NULL, `delivered_at` datetime NULL, `organization_id` text NOT NULL, `membership_id` text NULL, `message_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `deliveries_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION, CONSTRAINT `deliveries_memberships_recipient` FOREIGN KEY (`membership_id`) REFERENCES `memberships` (`id`) ON DELETE SET NULL, CONSTRAINT `deliveries_messages_deliveries` FOREIGN KEY (`message_id`) REFERENCES `messages` (`id`) ON DELETE NO ACTION);
-- Create index "delivery_organization_id_id" to table: "deliveries"
CREATE INDEX `delivery_organization_id_id` ON `deliveries` (`organization_id`, `id`);
-- Create index "delivery_message_id_status" to table: "deliveries"
CREATE INDEX `delivery_message_id_status` ON `deliveries` (`message_id`, `status`);
-- Create index "delivery_outbox_email_id" to table: "deliveries"
CREATE INDEX `delivery_outbox_email_id` ON `deliveries` (`outbox_email_id`);
-- Create "message_templates" table
CREATE TABLE `message_templates` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `channel` text NOT NULL DEFAULT ('EMAIL'), `subject` text NOT NULL DEFAULT (''), `body` text NOT NULL, `organization_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `message_templates_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION);
-- Create index "messagetemplate_organization_id_id" to table: "message_templates"
CREATE INDEX `messagetemplate_organization_id_id` ON `message_templates` (`organization_id`, `id`);
-- Create index "messagetemplate_organization_id_name" to table: "message_templates"
CREATE UNIQUE INDEX `messagetemplate_organization_id_name` ON `message_templates` (`organization_id`, `name`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
