-- Create "phone_verifications" table
CREATE TABLE "phone_verifications" ("id" character varying NOT NULL, "user_id" character varying NOT NULL, "phone" character varying NOT NULL, "code_hash" character varying NOT NULL, "attempts" bigint NOT NULL DEFAULT 0, "ip" character varying NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "verified_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "phoneverification_ip_created_at" to table: "phone_verifications"
CREATE INDEX "phoneverification_ip_created_at" ON "phone_verifications" ("ip", "created_at");
-- Create index "phoneverification_user_id_created_at" to table: "phone_verifications"
CREATE INDEX "phoneverification_user_id_created_at" ON "phone_verifications" ("user_id", "created_at");
-- Create "messaging_settings" table
CREATE TABLE "messaging_settings" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "require_verified_phone" boolean NOT NULL DEFAULT false, "organization_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "messaging_settings_organizations_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "messagingsetting_organization_id" to table: "messaging_settings"
CREATE UNIQUE INDEX "messagingsetting_organization_id" ON "messaging_settings" ("organization_id");
-- Create index "messagingsetting_organization_id_id" to table: "messaging_settings"
CREATE INDEX "messagingsetting_organization_id_id" ON "messaging_settings" ("organization_id", "id");
