-- Create "organizations" table
CREATE TABLE "organizations" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "slug" character varying NOT NULL, "timezone" character varying NOT NULL DEFAULT 'UTC', "instructor_message" character varying NOT NULL DEFAULT '', "phone" character varying NULL, "billing_email" character varying NULL, "billing_plan" character varying NOT NULL DEFAULT 'free', "billing_seats" bigint NOT NULL DEFAULT 5, "payment_method_summary" character varying NULL, "next_invoice_at" timestamptz NULL, "invitation_subject" character varying NOT NULL DEFAULT '', "invitation_text" text NOT NULL DEFAULT '', "invitation_html" text NOT NULL DEFAULT '', "lock_version" bigint NOT NULL DEFAULT 0, PRIMARY KEY ("id"));
-- Create index "organizations_slug_key" to table: "organizations"
CREATE UNIQUE INDEX "organizations_slug_key" ON "organizations" ("slug");
-- Create "password_resets" table
CREATE TABLE "password_resets" ("id" character varying NOT NULL, "user_id" character varying NOT NULL, "token_hash" bytea NOT NULL, "created_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "used_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "password_resets_token_hash_key" to table: "password_resets"
CREATE UNIQUE INDEX "password_resets_token_hash_key" ON "password_resets" ("token_hash");
-- Create index "passwordreset_user_id" to table: "password_resets"
CREATE INDEX "passwordreset_user_id" ON "password_resets" ("user_id");
-- Create "outbox_emails" table
CREATE TABLE "outbox_emails" ("id" character varying NOT NULL, "organization_id" character varying NULL, "to_address" character varying NOT NULL, "subject" character varying NOT NULL, "text_body" text NOT NULL, "html_body" text NOT NULL DEFAULT '', "subject_id" character varying NOT NULL DEFAULT '', "status" character varying NOT NULL DEFAULT 'QUEUED', "attempts" bigint NOT NULL DEFAULT 0, "next_attempt_at" timestamptz NOT NULL, "last_error" character varying NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL, "sent_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "outboxemail_status_next_attempt_at" to table: "outbox_emails"
CREATE INDEX "outboxemail_status_next_attempt_at" ON "outbox_emails" ("status", "next_attempt_at");
-- Create "roles" table
CREATE TABLE "roles" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "key" character varying NOT NULL, "name" character varying NOT NULL, "description" character varying NOT NULL DEFAULT '', "builtin" boolean NOT NULL DEFAULT false, "permissions" jsonb NOT NULL, "manages" jsonb NOT NULL, "default_group_scope" character varying NOT NULL DEFAULT 'ALL', "organization_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "roles_organizations_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "role_organization_id_id" to table: "roles"
CREATE INDEX "role_organization_id_id" ON "roles" ("organization_id", "id");
-- Create index "role_organization_id_key" to table: "roles"
CREATE UNIQUE INDEX "role_organization_id_key" ON "roles" ("organization_id", "key");
-- Create "users" table
CREATE TABLE "users" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "email" character varying NOT NULL, "password_hash" character varying NULL, "first_name" character varying NOT NULL, "last_name" character varying NOT NULL, "phone" character varying NULL, "failed_logins" bigint NOT NULL DEFAULT 0, "locked_at" timestamptz NULL, "password_changed_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX "users_email_key" ON "users" ("email");
-- Create "memberships" table
CREATE TABLE "memberships" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "status" character varying NOT NULL DEFAULT 'ACTIVE', "username" character varying NOT NULL, "username_key" character varying NOT NULL, "title" character varying NOT NULL DEFAULT '', "grants" jsonb NOT NULL, "revokes" jsonb NOT NULL, "group_scope" character varying NOT NULL DEFAULT 'ALL', "joined_at" timestamptz NOT NULL, "removed_at" timestamptz NULL, "last_used_at" timestamptz NULL, "organization_id" character varying NOT NULL, "role_id" character varying NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "memberships_organizations_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "memberships_roles_role" FOREIGN KEY ("role_id") REFERENCES "roles" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "memberships_users_memberships" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "membership_organization_id_id" to table: "memberships"
CREATE INDEX "membership_organization_id_id" ON "memberships" ("organization_id", "id");
-- Create index "membership_organization_id_user_id" to table: "memberships"
CREATE UNIQUE INDEX "membership_organization_id_user_id" ON "memberships" ("organization_id", "user_id");
-- Create index "membership_organization_id_username_key" to table: "memberships"
CREATE UNIQUE INDEX "membership_organization_id_username_key" ON "memberships" ("organization_id", "username_key");
-- Create index "membership_user_id" to table: "memberships"
CREATE INDEX "membership_user_id" ON "memberships" ("user_id");
-- Create "audit_events" table
CREATE TABLE "audit_events" ("id" character varying NOT NULL, "action" character varying NOT NULL, "target_type" character varying NOT NULL DEFAULT '', "target_id" character varying NOT NULL DEFAULT '', "data" jsonb NULL, "ip" character varying NOT NULL DEFAULT '', "user_agent" character varying NOT NULL DEFAULT '', "request_id" character varying NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL, "organization_id" character varying NOT NULL, "actor_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "audit_events_memberships_actor" FOREIGN KEY ("actor_id") REFERENCES "memberships" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "audit_events_organizations_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "auditevent_organization_id_created_at" to table: "audit_events"
CREATE INDEX "auditevent_organization_id_created_at" ON "audit_events" ("organization_id", "created_at");
-- Create index "auditevent_organization_id_id" to table: "audit_events"
CREATE INDEX "auditevent_organization_id_id" ON "audit_events" ("organization_id", "id");
-- Create "groups" table
CREATE TABLE "groups" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "kind" character varying NOT NULL DEFAULT 'CLASS', "description" character varying NOT NULL DEFAULT '', "organization_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "groups_organizations_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "group_organization_id_id" to table: "groups"
CREATE INDEX "group_organization_id_id" ON "groups" ("organization_id", "id");
-- Create index "group_organization_id_name" to table: "groups"
CREATE UNIQUE INDEX "group_organization_id_name" ON "groups" ("organization_id", "name");
-- Create "invitations" table
CREATE TABLE "invitations" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "email" character varying NOT NULL, "first_name" character varying NOT NULL DEFAULT '', "last_name" character varying NOT NULL DEFAULT '', "phone" character varying NULL, "grants" jsonb NOT NULL, "group_ids" jsonb NOT NULL, "token_hash" bytea NOT NULL, "status" character varying NOT NULL DEFAULT 'PENDING', "expires_at" timestamptz NOT NULL, "send_count" bigint NOT NULL DEFAULT 0, "last_sent_at" timestamptz NULL, "delivery_status" character varying NOT NULL DEFAULT 'QUEUED', "accepted_at" timestamptz NULL, "organization_id" character varying NOT NULL, "role_id" character varying NOT NULL, "invited_by_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "invitations_memberships_invited_by" FOREIGN KEY ("invited_by_id") REFERENCES "memberships" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "invitations_organizations_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "invitations_roles_role" FOREIGN KEY ("role_id") REFERENCES "roles" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "invitation_organization_id_email_status" to table: "invitations"
CREATE INDEX "invitation_organization_id_email_status" ON "invitations" ("organization_id", "email", "status");
-- Create index "invitation_organization_id_id" to table: "invitations"
CREATE INDEX "invitation_organization_id_id" ON "invitations" ("organization_id", "id");
-- Create index "invitations_token_hash_key" to table: "invitations"
CREATE UNIQUE INDEX "invitations_token_hash_key" ON "invitations" ("token_hash");
-- Create "invoices" table
CREATE TABLE "invoices" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "number" character varying NOT NULL, "customer_name" character varying NOT NULL, "amount_cents" bigint NOT NULL, "currency" character varying NOT NULL, "status" character varying NOT NULL DEFAULT 'OPEN', "created_by_id" character varying NULL, "organization_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "invoices_organizations_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "invoice_organization_id_id" to table: "invoices"
CREATE INDEX "invoice_organization_id_id" ON "invoices" ("organization_id", "id");
-- Create index "invoice_organization_id_number" to table: "invoices"
CREATE UNIQUE INDEX "invoice_organization_id_number" ON "invoices" ("organization_id", "number");
-- Create "membership_groups" table
CREATE TABLE "membership_groups" ("membership_id" character varying NOT NULL, "group_id" character varying NOT NULL, PRIMARY KEY ("membership_id", "group_id"), CONSTRAINT "membership_groups_group_id" FOREIGN KEY ("group_id") REFERENCES "groups" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "membership_groups_membership_id" FOREIGN KEY ("membership_id") REFERENCES "memberships" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create "messages" table
CREATE TABLE "messages" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "channel" character varying NOT NULL DEFAULT 'EMAIL', "subject" character varying NOT NULL DEFAULT '', "body" character varying NOT NULL, "status" character varying NOT NULL, "sent_at" timestamptz NULL, "organization_id" character varying NOT NULL, "author_id" character varying NULL, "approved_by_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "messages_memberships_approved_by" FOREIGN KEY ("approved_by_id") REFERENCES "memberships" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "messages_memberships_author" FOREIGN KEY ("author_id") REFERENCES "memberships" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "messages_organizations_organization" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "message_organization_id_author_id" to table: "messages"
CREATE INDEX "message_organization_id_author_id" ON "messages" ("organization_id", "author_id");
-- Create index "message_organization_id_id" to table: "messages"
CREATE INDEX "message_organization_id_id" ON "messages" ("organization_id", "id");
-- Create "message_bcc" table
CREATE TABLE "message_bcc" ("message_id" character varying NOT NULL, "membership_id" character varying NOT NULL, PRIMARY KEY ("message_id", "membership_id"), CONSTRAINT "message_bcc_membership_id" FOREIGN KEY ("membership_id") REFERENCES "memberships" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "message_bcc_message_id" FOREIGN KEY ("message_id") REFERENCES "messages" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create "message_cc" table
CREATE TABLE "message_cc" ("message_id" character varying NOT NULL, "membership_id" character varying NOT NULL, PRIMARY KEY ("message_id", "membership_id"), CONSTRAINT "message_cc_membership_id" FOREIGN KEY ("membership_id") REFERENCES "memberships" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "message_cc_message_id" FOREIGN KEY ("message_id") REFERENCES "messages" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create "message_groups" table
CREATE TABLE "message_groups" ("message_id" character varying NOT NULL, "group_id" character varying NOT NULL, PRIMARY KEY ("message_id", "group_id"), CONSTRAINT "message_groups_group_id" FOREIGN KEY ("group_id") REFERENCES "groups" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "message_groups_message_id" FOREIGN KEY ("message_id") REFERENCES "messages" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create "message_recipients" table
CREATE TABLE "message_recipients" ("message_id" character varying NOT NULL, "membership_id" character varying NOT NULL, PRIMARY KEY ("message_id", "membership_id"), CONSTRAINT "message_recipients_membership_id" FOREIGN KEY ("membership_id") REFERENCES "memberships" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "message_recipients_message_id" FOREIGN KEY ("message_id") REFERENCES "messages" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create "sessions" table
CREATE TABLE "sessions" ("id" character varying NOT NULL, "family_id" character varying NOT NULL, "token_hash" bytea NOT NULL, "organization_id" character varying NULL, "created_at" timestamptz NOT NULL, "family_started_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "rotated_at" timestamptz NULL, "revoked_at" timestamptz NULL, "ip" character varying NOT NULL DEFAULT '', "user_agent" character varying NOT NULL DEFAULT '', "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "sessions_users_sessions" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "session_family_id" to table: "sessions"
CREATE INDEX "session_family_id" ON "sessions" ("family_id");
-- Create index "session_user_id" to table: "sessions"
CREATE INDEX "session_user_id" ON "sessions" ("user_id");
-- Create index "sessions_token_hash_key" to table: "sessions"
CREATE UNIQUE INDEX "sessions_token_hash_key" ON "sessions" ("token_hash");
