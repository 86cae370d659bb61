-- Modify "outbox_emails" table
ALTER TABLE "outbox_emails" ADD COLUMN "channel" character varying NOT NULL DEFAULT 'EMAIL';
-- Modify "messages" table
ALTER TABLE "messages" ADD COLUMN "template_id" character varying NULL;
-- Create "deliveries" table
CREATE TABLE "deliveries" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "via" character varying NOT NULL, "channel" character varying NOT NULL, "status" character varying NOT NULL, "reason" character varying NOT NULL DEFAULT '', "outbox_email_id" character varying NULL, "sent_at" timestamptz NULL, "delivered_at" timestamptz NULL, "organization_id" character varying NOT NULL, "membership_id" character varying NULL, "message_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "deliveries_memberships_recipient" FOREIGN KEY ("membership_id") REFERENCES "memberships" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "deliveries_messages_deliveries" FOREIGN KEY ("message_id") REFERENCES "messages" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "deliveries_organizations_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "delivery_message_id_status" to table: "deliveries"
CREATE INDEX "delivery_message_id_status" ON "deliveries" ("message_id", "status");
-- Create index "delivery_organization_id_id" to table: "deliveries"
CREATE INDEX "delivery_organization_id_id" ON "deliveries" ("organization_id", "id");
-- Create index "delivery_outbox_email_id" to table: "deliveries"
CREATE INDEX "delivery_outbox_email_id" ON "deliveries" ("outbox_email_id");
-- Create "message_templates" table
CREATE TABLE "message_templates" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "channel" character varying NOT NULL DEFAULT 'EMAIL', "subject" character varying NOT NULL DEFAULT '', "body" character varying NOT NULL, "organization_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "message_templates_organizations_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "messagetemplate_organization_id_id" to table: "message_templates"
CREATE INDEX "messagetemplate_organization_id_id" ON "message_templates" ("organization_id", "id");
-- Create index "messagetemplate_organization_id_name" to table: "message_templates"
CREATE UNIQUE INDEX "messagetemplate_organization_id_name" ON "message_templates" ("organization_id", "name");
