-- Time-boxed access: when a disabled period ends, when grants end (and the
-- earliest of them, which the expiry job looks for), and when a group link ends.
-- The links table keeps its hand-made index on group_id.
-- Modify "memberships" table
ALTER TABLE "memberships" ADD COLUMN "disabled_until" timestamptz NULL, ADD COLUMN "grant_expiries" jsonb NULL, ADD COLUMN "next_grant_expiry" timestamptz NULL;
-- Create index "membership_disabled_until" to table: "memberships"
CREATE INDEX "membership_disabled_until" ON "memberships" ("disabled_until");
-- Create index "membership_next_grant_expiry" to table: "memberships"
CREATE INDEX "membership_next_grant_expiry" ON "memberships" ("next_grant_expiry");
-- Modify "membership_groups" table
ALTER TABLE "membership_groups" DROP CONSTRAINT "membership_groups_group_id", DROP CONSTRAINT "membership_groups_membership_id", ADD COLUMN "until" timestamptz NULL, ADD CONSTRAINT "membership_groups_groups_group" FOREIGN KEY ("group_id") REFERENCES "groups" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, ADD CONSTRAINT "membership_groups_memberships_membership" FOREIGN KEY ("membership_id") REFERENCES "memberships" ("id") ON UPDATE NO ACTION ON DELETE CASCADE;
-- Create index "grouplink_until" to table: "membership_groups"
CREATE INDEX "grouplink_until" ON "membership_groups" ("until");
