-- Dashboard access: users, sessions, API tokens, the audit log, and each
-- household's consent record. Times are epoch milliseconds (UTC).
CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL UNIQUE,
    role           TEXT    NOT NULL,
    -- Grids (grid_worker) or households (family) this user may see, comma-separated.
    scope          TEXT    NOT NULL DEFAULT '',
    language       TEXT    NOT NULL DEFAULT 'en',
    password_hash  TEXT    NOT NULL,
    created_ms     INTEGER NOT NULL,
    disabled       INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    token_hash    TEXT    PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id),
    csrf          TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL,
    last_seen_ms  INTEGER NOT NULL,
    expires_ms    INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    token_hash  TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    label       TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms   INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    target  TEXT    NOT NULL,
    detail  TEXT    NOT NULL DEFAULT '',
    source  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_by_time ON audit_log(ts_ms);

CREATE TABLE consents (
    household          TEXT    PRIMARY KEY,
    family_sees_usage  INTEGER NOT NULL,
    recorded_by        TEXT    NOT NULL,
    recorded_ms        INTEGER NOT NULL,
    note               TEXT    NOT NULL DEFAULT ''
);
