-- Create "api_keys" table
CREATE TABLE `api_keys` (`id` text NOT NULL, `name` text NOT NULL, `prefix` text NOT NULL, `secret_hash` blob NOT NULL, `permissions` json NOT NULL, `created_by_id` text NULL, `created_at` datetime NOT NULL, `expires_at` datetime NULL, `last_used_at` datetime NULL, `use_count` integer NOT NULL DEFAULT (0), `revoked_at` datetime NULL, `organization_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `api_keys_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION);
-- Create index "api_keys_secret_hash_key" to table: "api_keys"
CREATE UNIQUE INDEX `api_keys_secret_hash_key` ON `api_keys` (`secret_hash`);
-- Create index "apikey_organization_id_id" to table: "api_keys"
CREATE INDEX `apikey_organization_id_id` ON `api_keys` (`organization_id`, `id`);
-- Create index "apikey_organization_id_created_at" to table: "api_keys"
CREATE INDEX `apikey_organization_id_created_at` ON `api_keys` (`organization_id`, `created_at`);
-- Create "module_permissions" table
CREATE TABLE `module_permissions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `key` text NOT NULL, `name` text NOT NULL, `description` text NOT NULL DEFAULT (''), `app` text NOT NULL, `organization_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `module_permissions_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION);
-- Create index "modulepermission_organization_id_id" to table: "module_permissions"
CREATE INDEX `modulepermission_organization_id_id` ON `module_permissions` (`organization_id`, `id`);
-- Create index "modulepermission_organization_id_key" to table: "module_permissions"
CREATE UNIQUE INDEX `modulepermission_organization_id_key` ON `module_permissions` (`organization_id`, `key`);
