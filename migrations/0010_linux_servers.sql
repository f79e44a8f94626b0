-- Servers Gatehouse grants temporary accounts on over SSH (the linux-ssh connector): the port sshd
-- listens on (NULL = 22), the automation account with its private key (sealed with the master key,
-- AES-256-GCM, bound to this asset's id), and the host keys recorded for it (JSON array of
-- "type base64" lines; Gatehouse refuses a server presenting any other key).
ALTER TABLE assets ADD COLUMN ssh_port integer CHECK (ssh_port BETWEEN 1 AND 65535);
ALTER TABLE assets ADD COLUMN automation_credential text;
ALTER TABLE assets ADD COLUMN host_keys jsonb NOT NULL DEFAULT '[]';
ALTER TABLE assets ADD CONSTRAINT assets_ssh_fields_on_servers_only
  CHECK (kind = 'server' OR (ssh_port IS NULL AND automation_credential IS NULL AND host_keys = '[]'));
