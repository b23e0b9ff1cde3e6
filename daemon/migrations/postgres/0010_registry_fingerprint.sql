-- The household registry as last written from a config (a hash of its
-- households, their meters and replaced meters), so a start with the same
-- registry need not write it again. One row; whichever start wrote the
-- registry last wrote it.
CREATE TABLE registry_synced (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL,
    synced_ms   BIGINT NOT NULL
);
