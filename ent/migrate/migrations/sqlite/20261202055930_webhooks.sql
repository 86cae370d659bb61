-- Create "webhook_deliveries" table
CREATE TABLE `webhook_deliveries` (`id` text NOT NULL, `event_type` text NOT NULL, `target_type` text NOT NULL, `target_id` text NOT NULL, `occurred_at` datetime NOT NULL, `payload` text NOT NULL DEFAULT (''), `status` text NOT NULL DEFAULT ('QUEUED'), `attempts` integer NOT NULL DEFAULT (0), `next_attempt_at` datetime NOT NULL, `queued_at` datetime NOT NULL, `last_attempt_at` datetime NULL, `last_status_code` integer NULL, `last_error` text NOT NULL DEFAULT (''), `delivered_at` datetime NULL, `created_at` datetime NOT NULL, `organization_id` text NOT NULL, `endpoint_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `webhook_deliveries_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION, CONSTRAINT `webhook_deliveries_webhook_endpoints_deliveries` FOREIGN KEY (`endpoint_id`) REFERENCES `webhook_endpoints` (`id`) ON DELETE NO ACTION);
-- Create index "webhookdelivery_organization_id_id" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_organization_id_id` ON `webhook_deliveries` (`organization_id`, `id`);
-- Create index "webhookdelivery_status_next_attempt_at" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_status_next_attempt_at` ON `webhook_deliveries` (`status`, `next_attempt_at`);
-- Create index "webhookdelivery_endpoint_id_created_at" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_endpoint_id_created_at` ON `webhook_deliveries` (`endpoint_id`, `created_at`);
-- Create "webhook_endpoints" table
CREATE TABLE `webhook_endpoints` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `url` text NOT NULL, `description` text NOT NULL DEFAULT (''), `event_types` json NOT NULL, `permissions` json NOT NULL, `secret` text NOT NULL, `previous_secret` text NOT NULL DEFAULT (''), `previous_secret_expires_at` datetime NULL, `status` text NOT NULL DEFAULT ('ENABLED'), `failing_since` datetime NULL, `created_by_id` text NULL, `organization_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `webhook_endpoints_organizations_organization` FOREIGN KEY (`organization_id`) REFERENCES `organizations` (`id`) ON DELETE NO ACTION);
-- Create index "webhookendpoint_organization_id_id" to table: "webhook_endpoints"
CREATE INDEX `webhookendpoint_organization_id_id` ON `webhook_endpoints` (`organization_id`, `id`);
