package sqlite

// retriesSchema adds the retries of a script configuration (0: one run)
// and, per result, its attempt (0: the only one) and when the agent tries
// again (NULL: it does not).
const retriesSchema = `
ALTER TABLE configurations ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE results ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE results ADD COLUMN retry_at TEXT;
`
