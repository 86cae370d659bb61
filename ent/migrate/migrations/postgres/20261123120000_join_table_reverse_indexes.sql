-- Join tables are keyed by their first column; row scopes and group deletion
-- look them up by the second ("messages sent to a group I see", "naming me").
-- ent cannot declare indexes on join tables, so this migration is written by hand.
CREATE INDEX "membership_groups_group_id_idx" ON "membership_groups" ("group_id");
CREATE INDEX "message_groups_group_id_idx" ON "message_groups" ("group_id");
CREATE INDEX "message_recipients_membership_id_idx" ON "message_recipients" ("membership_id");
CREATE INDEX "message_cc_membership_id_idx" ON "message_cc" ("membership_id");
CREATE INDEX "message_bcc_membership_id_idx" ON "message_bcc" ("membership_id");
