-- waterwatch schema v1 (SQLite). Times are epoch milliseconds (UTC).
CREATE TABLE households (
    id          TEXT PRIMARY KEY,
    name        TEXT,
    grid        TEXT,
    created_ms  INTEGER NOT NULL
);

CREATE TABLE meters (
    id              TEXT PRIMARY KEY,
    household_id    TEXT NOT NULL REFERENCES households(id),
    created_ms      INTEGER NOT NULL,
    last_seen_ms    INTEGER,
    last_reading_ms INTEGER,
    engine_state    TEXT
);

CREATE TABLE readings (
    meter_id     TEXT    NOT NULL,
    ts_ms        INTEGER NOT NULL,
    utc_offset_s INTEGER NOT NULL,
    total_l      REAL    NOT NULL,
    flow_lpm     REAL,
    battery_pct  REAL,
    status       TEXT,
    received_ms  INTEGER NOT NULL,
    PRIMARY KEY (meter_id, ts_ms)
);

CREATE TABLE cases (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    household_id    TEXT    NOT NULL,
    opened_ms       INTEGER NOT NULL,
    severity        TEXT    NOT NULL,
    acknowledged_ms INTEGER,
    acknowledged_by TEXT,
    resolved_ms     INTEGER,
    resolution      TEXT
);
CREATE UNIQUE INDEX cases_one_open_per_household ON cases(household_id) WHERE resolved_ms IS NULL;

CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id      INTEGER NOT NULL REFERENCES cases(id),
    household_id TEXT    NOT NULL,
    meter_id     TEXT    NOT NULL,
    rule         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    severity     TEXT    NOT NULL,
    summary      TEXT    NOT NULL,
    fired_ms     INTEGER NOT NULL,
    resolved_ms  INTEGER
);
CREATE INDEX alerts_by_case ON alerts(case_id);

CREATE TABLE case_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id  INTEGER NOT NULL REFERENCES cases(id),
    ts_ms    INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    detail   TEXT    NOT NULL
);
CREATE INDEX case_events_by_case ON case_events(case_id);

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key  TEXT    NOT NULL UNIQUE,
    channel          TEXT    NOT NULL,
    case_id          INTEGER,
    payload          TEXT    NOT NULL,
    created_ms       INTEGER NOT NULL,
    next_attempt_ms  INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    status           TEXT    NOT NULL DEFAULT 'pending',
    last_error       TEXT,
    delivered_ms     INTEGER
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_ms);

CREATE TABLE dead_letters (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    received_ms  INTEGER NOT NULL,
    topic        TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    detail       TEXT    NOT NULL,
    payload      TEXT    NOT NULL
);
