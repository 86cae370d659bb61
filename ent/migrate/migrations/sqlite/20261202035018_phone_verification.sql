-- Create "messaging_settings" table
CREATE TABLE `messaging_settings` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `require_verified_phone` bool NOT NULL DEFAULT (false), `organization_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `messaging_settings_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION);
-- Create index "messagingsetting_organization_id_id" to table: "messaging_settings"
CREATE INDEX `messagingsetting_organization_id_id` ON `messaging_settings` (`organization_id`, `id`);
-- Create index "messagingsetting_organization_id" to table: "messaging_settings"
CREATE UNIQUE INDEX `messagingsetting_organization_id` ON `messaging_settings` (`organization_id`);
-- Create "phone_verifications" table
CREATE TABLE `phone_verifications` (`id` text NOT NULL, `user_id` text NOT NULL, `phone` text NOT NULL, `code_hash` text NOT NULL, `attempts` integer NOT NULL DEFAULT (0), `ip` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `verified_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "phoneverification_user_id_created_at" to table: "phone_verifications"
CREATE INDEX `phoneverification_user_id_created_at` ON `phone_verifications` (`user_id`, `created_at`);
-- Create index "phoneverification_ip_created_at" to table: "phone_verifications"
CREATE INDEX `phoneverification_ip_created_at` ON `phone_verifications` (`ip`, `created_at`);
