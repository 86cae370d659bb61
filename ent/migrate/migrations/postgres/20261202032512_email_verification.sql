-- Modify "invitations" table
ALTER TABLE "invitations" ADD COLUMN "link_token_hash" bytea NULL;
-- Create index "invitations_link_token_hash_key" to table: "invitations"
CREATE UNIQUE INDEX "invitations_link_token_hash_key" ON "invitations" ("link_token_hash");
-- Modify "memberships" table
ALTER TABLE "memberships" ADD COLUMN "unverified_join" boolean NOT NULL DEFAULT false;
-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "email_verified_at" timestamptz NULL, ADD COLUMN "email_unverified_legacy" boolean NOT NULL DEFAULT false;
-- Create "email_verifications" table
CREATE TABLE "email_verifications" ("id" character varying NOT NULL, "user_id" character varying NOT NULL, "token_hash" bytea NOT NULL, "password_hash" character varying NULL, "first_name" character varying NOT NULL DEFAULT '', "last_name" character varying NOT NULL DEFAULT '', "phone" character varying NULL, "created_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "used_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "email_verifications_token_hash_key" to table: "email_verifications"
CREATE UNIQUE INDEX "email_verifications_token_hash_key" ON "email_verifications" ("token_hash");
-- Create index "emailverification_user_id_created_at" to table: "email_verifications"
CREATE INDEX "emailverification_user_id_created_at" ON "email_verifications" ("user_id", "created_at");
-- Written by hand: existing logins are verified when their address received a
-- secret they used (an invitation they accepted, every one of which was emailed
-- before shareable links had tokens of their own, or a password reset). The time
-- of that proof is not kept, so their last update stands in for it.
UPDATE "users" SET "email_verified_at" = "updated_at" WHERE EXISTS (SELECT 1 FROM "invitations" AS "i" WHERE "i"."email" = "users"."email" AND "i"."status" = 'ACCEPTED') OR EXISTS (SELECT 1 FROM "password_resets" AS "p" WHERE "p"."user_id" = "users"."id" AND "p"."used_at" IS NOT NULL);
-- The others stay unverified, marked as existing (STAFFROOM_TRUST_EXISTING_EMAILS verifies them at start).
UPDATE "users" SET "email_unverified_legacy" = true WHERE "email_verified_at" IS NULL;
-- Their memberships came from creating organizations: the address's owner reviews them once proved.
UPDATE "memberships" SET "unverified_join" = true WHERE "user_id" IN (SELECT "id" FROM "users" WHERE "email_verified_at" IS NULL);
