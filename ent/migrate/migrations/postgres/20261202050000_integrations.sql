-- Create "api_keys" table
CREATE TABLE "api_keys" ("id" character varying NOT NULL, "name" character varying NOT NULL, "prefix" character varying NOT NULL, "secret_hash" bytea NOT NULL, "permissions" jsonb NOT NULL, "created_by_id" character varying NULL, "created_at" timestamptz NOT NULL, "expires_at" timestamptz NULL, "last_used_at" timestamptz NULL, "use_count" bigint NOT NULL DEFAULT 0, "revoked_at" timestamptz NULL, "organization_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "api_keys_organizations_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "api_keys_secret_hash_key" to table: "api_keys"
CREATE UNIQUE INDEX "api_keys_secret_hash_key" ON "api_keys" ("secret_hash");
-- Create index "apikey_organization_id_created_at" to table: "api_keys"
CREATE INDEX "apikey_organization_id_created_at" ON "api_keys" ("organization_id", "created_at");
-- Create index "apikey_organization_id_id" to table: "api_keys"
CREATE INDEX "apikey_organization_id_id" ON "api_keys" ("organization_id", "id");
-- Create "module_permissions" table
CREATE TABLE "module_permissions" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "key" character varying NOT NULL, "name" character varying NOT NULL, "description" character varying NOT NULL DEFAULT '', "app" character varying NOT NULL, "organization_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "module_permissions_organizations_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "modulepermission_organization_id_id" to table: "module_permissions"
CREATE INDEX "modulepermission_organization_id_id" ON "module_permissions" ("organization_id", "id");
-- Create index "modulepermission_organization_id_key" to table: "module_permissions"
CREATE UNIQUE INDEX "modulepermission_organization_id_key" ON "module_permissions" ("organization_id", "key");
