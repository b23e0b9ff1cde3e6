-- Away mode and silences: time-boxed suppression of alerts.
CREATE TABLE suppressions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    away        INTEGER NOT NULL,
    household   TEXT,
    grid        TEXT,
    kind        TEXT,
    starts_ms   INTEGER NOT NULL,
    ends_ms     INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL
);
CREATE INDEX suppressions_by_end ON suppressions(ends_ms);

-- Alerts that fired while suppressed, opened as cases if still active when
-- the suppression ends.
CREATE TABLE held_alerts (
    household  TEXT    NOT NULL,
    meter_id   TEXT    NOT NULL,
    rule       TEXT    NOT NULL,
    event      TEXT    NOT NULL,
    held_ms    INTEGER NOT NULL,
    PRIMARY KEY (household, meter_id, rule)
);
