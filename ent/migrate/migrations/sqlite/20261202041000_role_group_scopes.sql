-- A role's group scope by group kind. Existing roles get none (NULL): their
-- organizations keep what they saw until an owner re-applies the preset.
ALTER TABLE `roles` ADD COLUMN `group_scopes` json NULL;
