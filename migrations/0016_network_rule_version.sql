-- Customer network rules become editable: each edit bumps the version, and an edit names the version
-- it was made from, so two editors cannot overwrite each other's change unseen.

ALTER TABLE network_rules ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);
