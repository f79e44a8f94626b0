-- Built-in tickets: the work item an access grant is tied to. A ticket has a human key (`OPS-42`) made
-- of a project key and a number; numbers come from a per-project counter unless the ref is given.

CREATE TABLE ticket_projects (
  key          text PRIMARY KEY CHECK (key ~ '^[A-Z][A-Z0-9]{1,9}$'),
  -- the highest number used in this project, generated or given
  last_number  integer NOT NULL CHECK (last_number BETWEEN 1 AND 999999999)
);

CREATE TABLE tickets (
  id           uuid PRIMARY KEY,
  ref          text NOT NULL UNIQUE CHECK (ref ~ '^[A-Z][A-Z0-9]{1,9}-[1-9][0-9]{0,8}$'),
  project      text NOT NULL REFERENCES ticket_projects(key),
  number       integer NOT NULL CHECK (number BETWEEN 1 AND 999999999),
  title        text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
  description  text NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
  state        text NOT NULL CHECK (state IN ('open', 'closed')),
  -- an operator's username; ON UPDATE follows a rename
  assignee     text REFERENCES operators(username) ON UPDATE CASCADE,
  -- who opened and who closed it: an operator's username or the name of a system component
  reporter     text NOT NULL,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  closed_at    timestamptz,
  closed_by    text,
  UNIQUE (project, number),
  CHECK (ref = project || '-' || number::text),
  CHECK (
    (state = 'open' AND closed_at IS NULL AND closed_by IS NULL)
    OR (state = 'closed' AND closed_at IS NOT NULL AND closed_by IS NOT NULL)
  )
);
CREATE INDEX tickets_created ON tickets (created_at DESC, id DESC);
CREATE INDEX tickets_assignee ON tickets (assignee) WHERE assignee IS NOT NULL;
