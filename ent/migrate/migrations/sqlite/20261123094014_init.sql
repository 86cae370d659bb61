-- Create "audit_events" table
CREATE TABLE `audit_events` (`id` text NOT NULL, `action` text NOT NULL, `target_type` text NOT NULL DEFAULT (''), `target_id` text NOT NULL DEFAULT (''), `data` json NULL, `ip` text NOT NULL DEFAULT (''), `user_agent` text NOT NULL DEFAULT (''), `request_id` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `organization_id` text NOT NULL, `actor_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `audit_events_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION, CONSTRAINT `audit_events_memberships_actor` FOREIGN KEY (`actor_id`) REFERENCES `memberships` (`id`) ON DELETE SET NULL);
-- Create index "auditevent_organization_id_id" to table: "audit_events"
CREATE INDEX `auditevent_organization_id_id` ON `audit_events` (`organization_id`, `id`);
-- Create index "auditevent_organization_id_created_at" to table: "audit_events"
CREATE INDEX `auditevent_organization_id_created_at` ON `audit_events` (`organization_id`, `created_at`);
-- Create "groups" table
CREATE TABLE `groups` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `kind` text NOT NULL DEFAULT ('CLASS'), `description` text NOT NULL DEFAULT (''), `organization_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `groups_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION);
-- Create index "group_organization_id_id" to table: "groups"
CREATE INDEX `group_organization_id_id` ON `groups` (`organization_id`, `id`);
-- Create index "group_organization_id_name" to table: "groups"
CREATE UNIQUE INDEX `group_organization_id_name` ON `groups` (`organization_id`, `name`);
-- Create "invitations" table
CREATE TABLE `invitations` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `first_name` text NOT NULL DEFAULT (''), `last_name` text NOT NULL DEFAULT (''), `phone` text NULL, `grants` json NOT NULL, `group_ids` json NOT NULL, `token_hash` blob NOT NULL, `status` text NOT NULL DEFAULT ('PENDING'), `expires_at` datetime NOT NULL, `send_count` integer NOT NULL DEFAULT (0), `last_sent_at` datetime NULL, `delivery_status` text NOT NULL DEFAULT ('QUEUED'), `accepted_at` datetime NULL, `organization_id` text NOT NULL, `role_id` text NOT NULL, `invited_by_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `invitations_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION, CONSTRAINT `invitations_roles_role` FOREIGN KEY (`role_id`) REFERENCES `roles` (`id`) ON DELETE NO ACTION, CONSTRAINT `invitations_memberships_invited_by` FOREIGN KEY (`invited_by_id`) REFERENCES `memberships` (`id`) ON DELETE SET NULL);
-- Create index "invitations_token_hash_key" to table: "invitations"
CREATE UNIQUE INDEX `invitations_token_hash_key` ON `invitations` (`token_hash`);
-- Create index "invitation_organization_id_id" to table: "invitations"
CREATE INDEX `invitation_organization_id_id` ON `invitations` (`organization_id`, `id`);
-- Create index "invitation_organization_id_email_status" to table: "invitations"
CREATE INDEX `invitation_organization_id_email_status` ON `invitations` (`organization_id`, `email`, `status`);
-- Create "invoices" table
CREATE TABLE `invoices` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `number` text NOT NULL, `customer_name` text NOT NULL, `amount_cents` integer NOT NULL, `currency` text NOT NULL, `status` text NOT NULL DEFAULT ('OPEN'), `created_by_id` text NULL, `organization_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `invoices_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION);
-- Create index "invoice_organization_id_id" to table: "invoices"
CREATE INDEX `invoice_organization_id_id` ON `invoices` (`organization_id`, `id`);
-- Create index "invoice_organization_id_number" to table: "invoices"
CREATE UNIQUE INDEX `invoice_organization_id_number` ON `invoices` (`organization_id`, `number`);
-- Create "memberships" table
CREATE TABLE `memberships` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `status` text NOT NULL DEFAULT ('ACTIVE'), `username` text NOT NULL, `username_key` text NOT NULL, `title` text NOT NULL DEFAULT (''), `grants` json NOT NULL, `revokes` json NOT NULL, `group_scope` text NOT NULL DEFAULT ('ALL'), `joined_at` datetime NOT NULL, `removed_at` datetime NULL, `last_used_at` datetime NULL, `organization_id` text NOT NULL, `role_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `memberships_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION, CONSTRAINT `memberships_roles_role` FOREIGN KEY (`role_id`) REFERENCES `roles` (`id`) ON DELETE NO ACTION, CONSTRAINT `memberships_users_memberships` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "membership_organization_id_id" to table: "memberships"
CREATE INDEX `membership_organization_id_id` ON `memberships` (`organization_id`, `id`);
-- Create index "membership_organization_id_user_id" to table: "memberships"
CREATE UNIQUE INDEX `membership_organization_id_user_id` ON `memberships` (`organization_id`, `user_id`);
-- Create index "membership_organization_id_username_key" to table: "memberships"
CREATE UNIQUE INDEX `membership_organization_id_username_key` ON `memberships` (`organization_id`, `username_key`);
-- Create index "membership_user_id" to table: "memberships"
CREATE INDEX `membership_user_id` ON `memberships` (`user_id`);
-- Create "messages" table
CREATE TABLE `messages` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `channel` text NOT NULL DEFAULT ('EMAIL'), `subject` text NOT NULL DEFAULT (''), `body` text NOT NULL, `status` text NOT NULL, `sent_at` datetime NULL, `organization_id` text NOT NULL, `author_id` text NULL, `approved_by_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `messages_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION, CONSTRAINT `messages_memberships_author` FOREIGN KEY (`author_id`) REFERENCES `memberships` (`id`) ON DELETE SET NULL, CONSTRAINT `messages_memberships_approved_by` FOREIGN KEY (`approved_by_id`) REFERENCES `memberships` (`id`) ON DELETE SET NULL);
-- Create index "message_organization_id_id" to table: "messages"
CREATE INDEX `message_organization_id_id` ON `messages` (`organization_id`, `id`);
-- Create index "message_organization_id_author_id" to table: "messages"
CREATE INDEX `message_organization_id_author_id` ON `messages` (`organization_id`, `author_id`);
-- Create "organizations" table
CREATE TABLE `organizations` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `slug` text NOT NULL, `timezone` text NOT NULL DEFAULT ('UTC'), `instructor_message` text NOT NULL DEFAULT (''), `phone` text NULL, `billing_email` text NULL, `billing_plan` text NOT NULL DEFAULT ('free'), `billing_seats` integer NOT NULL DEFAULT (5), `payment_method_summary` text NULL, `next_invoice_at` datetime NULL, `invitation_subject` text NOT NULL DEFAULT (''), `invitation_text` text NOT NULL DEFAULT (''), `invitation_html` text NOT NULL DEFAULT (''), `lock_version` integer NOT NULL DEFAULT (0), PRIMARY KEY (`id`));
-- Create index "organizations_slug_key" to table: "organizations"
CREATE UNIQUE INDEX `organizations_slug_key` ON `organizations` (`slug`);
-- Create "outbox_emails" table
CREATE TABLE `outbox_emails` (`id` text NOT NULL, `organization_id` text NULL, `to_address` text NOT NULL, `subject` text NOT NULL, `text_body` text NOT NULL, `html_body` text NOT NULL DEFAULT (''), `subject_id` text NOT NULL DEFAULT (''), `status` text NOT NULL DEFAULT ('QUEUED'), `attempts` integer NOT NULL DEFAULT (0), `next_attempt_at` datetime NOT NULL, `last_error` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `sent_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "outboxemail_status_next_attempt_at" to table: "outbox_emails"
CREATE INDEX `outboxemail_status_next_attempt_at` ON `outbox_emails` (`status`, `next_attempt_at`);
-- Create "password_resets" table
CREATE TABLE `password_resets` (`id` text NOT NULL, `user_id` text NOT NULL, `token_hash` blob NOT NULL, `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "password_resets_token_hash_key" to table: "password_resets"
CREATE UNIQUE INDEX `password_resets_token_hash_key` ON `password_resets` (`token_hash`);
-- Create index "passwordreset_user_id" to table: "password_resets"
CREATE INDEX `passwordreset_user_id` ON `password_resets` (`user_id`);
-- Create "roles" table
CREATE TABLE `roles` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `key` text NOT NULL, `name` text NOT NULL, `description` text NOT NULL DEFAULT (''), `builtin` bool NOT NULL DEFAULT (false), `permissions` json NOT NULL, `manages` json NOT NULL, `default_group_scope` text NOT NULL DEFAULT ('ALL'), `organization_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `roles_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION);
-- Create index "role_organization_id_id" to table: "roles"
CREATE INDEX `role_organization_id_id` ON `roles` (`organization_id`, `id`);
-- Create index "role_organization_id_key" to table: "roles"
CREATE UNIQUE INDEX `role_organization_id_key` ON `roles` (`organization_id`, `key`);
-- Create "sessions" table
CREATE TABLE `sessions` (`id` text NOT NULL, `family_id` text NOT NULL, `token_hash` blob NOT NULL, `organization_id` text NULL, `created_at` datetime NOT NULL, `family_started_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `rotated_at` datetime NULL, `revoked_at` datetime NULL, `ip` text NOT NULL DEFAULT (''), `user_agent` text NOT NULL DEFAULT (''), `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `sessions_users_sessions` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "sessions_token_hash_key" to table: "sessions"
CREATE UNIQUE INDEX `sessions_token_hash_key` ON `sessions` (`token_hash`);
-- Create index "session_family_id" to table: "sessions"
CREATE INDEX `session_family_id` ON `sessions` (`family_id`);
-- Create index "session_user_id" to table: "sessions"
CREATE INDEX `session_user_id` ON `sessions` (`user_id`);
-- Create "users" table
CREATE TABLE `users` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `password_hash` text NULL, `first_name` text NOT NULL, `last_name` text NOT NULL, `phone` text NULL, `failed_logins` integer NOT NULL DEFAULT (0), `locked_at` datetime NULL, `password_changed_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX `users_email_key` ON `users` (`email`);
-- Create "membership_groups" table
CREATE TABLE `membership_groups` (`membership_id` text NOT NULL, `group_id` text NOT NULL, PRIMARY KEY (`membership_id`, `group_id`), CONSTRAINT `membership_groups_membership_id` FOREIGN KEY (`membership_id`) REFERENCES `memberships` (`id`) ON DELETE CASCADE, CONSTRAINT `membership_groups_group_id` FOREIGN KEY (`group_id`) REFERENCES `groups` (`id`) ON DELETE CASCADE);
-- Create "message_groups" table
CREATE TABLE `message_groups` (`message_id` text NOT NULL, `group_id` text NOT NULL, PRIMARY KEY (`message_id`, `group_id`), CONSTRAINT `message_groups_message_id` FOREIGN KEY (`message_id`) REFERENCES `messages` (`id`) ON DELETE CASCADE, CONSTRAINT `message_groups_group_id` FOREIGN KEY (`group_id`) REFERENCES `groups` (`id`) ON DELETE CASCADE);
-- Create "message_recipients" table
CREATE TABLE `message_recipients` (`message_id` text NOT NULL, `membership_id` text NOT NULL, PRIMARY KEY (`message_id`, `membership_id`), CONSTRAINT `message_recipients_message_id` FOREIGN KEY (`message_id`) REFERENCES `messages` (`id`) ON DELETE CASCADE, CONSTRAINT `message_recipients_membership_id` FOREIGN KEY (`membership_id`) REFERENCES `memberships` (`id`) ON DELETE CASCADE);
-- Create "message_cc" table
CREATE TABLE `message_cc` (`message_id` text NOT NULL, `membership_id` text NOT NULL, PRIMARY KEY (`message_id`, `membership_id`), CONSTRAINT `message_cc_message_id` FOREIGN KEY (`message_id`) REFERENCES `messages` (`id`) ON DELETE CASCADE, CONSTRAINT `message_cc_membership_id` FOREIGN KEY (`membership_id`) REFERENCES `memberships` (`id`) ON DELETE CASCADE);
-- Create "message_bcc" table
CREATE TABLE `message_bcc` (`message_id` text NOT NULL, `membership_id` text NOT NULL, PRIMARY KEY (`message_id`, `membership_id`), CONSTRAINT `message_bcc_message_id` FOREIGN KEY (`message_id`) REFERENCES `messages` (`id`) ON DELETE CASCADE, CONSTRAINT `message_bcc_membership_id` FOREIGN KEY (`membership_id`) REFERENCES `memberships` (`id`) ON DELETE CASCADE);
