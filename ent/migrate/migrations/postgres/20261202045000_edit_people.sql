-- Modify "organizations" table
ALTER TABLE "organizations" ADD COLUMN "required_member_fields" jsonb NULL;
-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "password_temporary" boolean NOT NULL DEFAULT false;
-- Create "email_changes" table
CREATE TABLE "email_changes" ("id" character varying NOT NULL, "user_id" character varying NOT NULL, "new_email" character varying NOT NULL, "token_hash" bytea NOT NULL, "requested_by" character varying NULL, "created_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "used_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "email_changes_token_hash_key" to table: "email_changes"
CREATE UNIQUE INDEX "email_changes_token_hash_key" ON "email_changes" ("token_hash");
-- Create index "emailchange_user_id_created_at" to table: "email_changes"
CREATE INDEX "emailchange_user_id_created_at" ON "email_changes" ("user_id", "created_at");
