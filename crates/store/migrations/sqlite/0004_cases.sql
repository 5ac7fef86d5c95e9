-- The case closed loop: the catalogue (versioned), cases as the projection of their
-- append-only events, units on a case (lead and assisting, with check-in), clocks as timers
-- that fire once, photos, idempotent intake, counters for the command view, notifications.
CREATE TABLE categories (
    code          TEXT NOT NULL,
    version       INTEGER NOT NULL,
    current       INTEGER NOT NULL,
    body          TEXT NOT NULL,
    changed_at_ms BIGINT NOT NULL,
    changed_by    TEXT NOT NULL,
    PRIMARY KEY (code, version)
);
CREATE INDEX categories_current ON categories (current, code);

CREATE TABLE cases (
    id               INTEGER PRIMARY KEY,
    number           TEXT NOT NULL UNIQUE,
    source           TEXT NOT NULL,
    category_code    TEXT NOT NULL,
    category_version INTEGER NOT NULL,
    priority         TEXT NOT NULL,
    title            TEXT NOT NULL,
    description      TEXT NOT NULL,
    cell_code        TEXT NOT NULL,
    lon              DOUBLE PRECISION,
    lat              DOUBLE PRECISION,
    address          TEXT NOT NULL,
    reporter         TEXT NOT NULL,
    contact_sealed   BLOB,
    contact_masked   TEXT,
    stage            TEXT NOT NULL,
    level            TEXT NOT NULL,
    level_code       TEXT NOT NULL,
    round            INTEGER NOT NULL DEFAULT 0,
    lead_unit        TEXT,
    rated            INTEGER NOT NULL DEFAULT 0,
    reworks          INTEGER NOT NULL DEFAULT 0,
    returns          INTEGER NOT NULL DEFAULT 0,
    escalations      INTEGER NOT NULL DEFAULT 0,
    satisfaction     TEXT,
    merged_into      BIGINT,
    clock_gen        INTEGER NOT NULL DEFAULT 0,
    due_at_ms        BIGINT,
    resolve_due_ms   BIGINT,
    paused_at_ms     BIGINT,
    overdue          INTEGER NOT NULL DEFAULT 0,
    supervised       INTEGER NOT NULL DEFAULT 0,
    events           INTEGER NOT NULL,
    created_at_ms    BIGINT NOT NULL,
    updated_at_ms    BIGINT NOT NULL,
    closed_at_ms     BIGINT
);
CREATE INDEX cases_cell ON cases (cell_code, id);
CREATE INDEX cases_stage ON cases (stage, level_code, id);
CREATE INDEX cases_lead ON cases (lead_unit, stage, id);
CREATE INDEX cases_recent ON cases (category_code, created_at_ms);
CREATE INDEX cases_created ON cases (created_at_ms);
CREATE INDEX cases_merged ON cases (merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE case_events (
    case_id  BIGINT NOT NULL,
    seq      INTEGER NOT NULL,
    at_ms    BIGINT NOT NULL,
    step     TEXT NOT NULL,
    actor    TEXT NOT NULL,
    capacity TEXT NOT NULL,
    note     TEXT NOT NULL,
    detail   TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE case_units (
    case_id          BIGINT NOT NULL,
    round            INTEGER NOT NULL,
    unit_code        TEXT NOT NULL,
    role             TEXT NOT NULL,
    assigned_at_ms   BIGINT NOT NULL,
    check_in_due_ms  BIGINT NOT NULL,
    checked_in_at_ms BIGINT,
    PRIMARY KEY (case_id, round, unit_code)
);
CREATE INDEX case_units_unit ON case_units (unit_code, case_id);

CREATE TABLE case_timers (
    id           INTEGER PRIMARY KEY,
    case_id      BIGINT NOT NULL,
    gen          INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    unit_code    TEXT,
    due_at_ms    BIGINT NOT NULL,
    fired_at_ms  BIGINT
);
CREATE INDEX case_timers_due ON case_timers (due_at_ms) WHERE fired_at_ms IS NULL;

CREATE TABLE case_photos (
    id           INTEGER PRIMARY KEY,
    case_id      BIGINT NOT NULL,
    event_seq    INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    at_ms        BIGINT NOT NULL
);
CREATE INDEX case_photos_case ON case_photos (case_id);

CREATE TABLE intake_keys (
    principal    TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    case_id      BIGINT NOT NULL,
    at_ms        BIGINT NOT NULL,
    PRIMARY KEY (principal, key)
);

CREATE TABLE case_day_seq (
    day  INTEGER PRIMARY KEY,
    next BIGINT NOT NULL
);

-- Deltas per scope (a region code, unit:CODE, cat:CODE or src:CODE), day (China time, days
-- since the epoch) and metric; a figure over a period is a sum over its days.
CREATE TABLE case_counters (
    scope  TEXT NOT NULL,
    day    INTEGER NOT NULL,
    metric TEXT NOT NULL,
    value  BIGINT NOT NULL,
    PRIMARY KEY (scope, metric, day)
);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    recipient  TEXT NOT NULL,
    case_id    BIGINT NOT NULL,
    step       TEXT NOT NULL,
    text_zh    TEXT NOT NULL,
    text_en    TEXT NOT NULL,
    at_ms      BIGINT NOT NULL,
    read_at_ms BIGINT
);
CREATE INDEX notifications_recipient ON notifications (recipient, id);

-- Messages for outbound channels (SMS, WeChat), taken by a sender that marks them sent.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    channel    TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    body       TEXT NOT NULL,
    at_ms      BIGINT NOT NULL,
    sent_at_ms BIGINT
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at_ms IS NULL;

INSERT INTO id_sequences (name, next_id) VALUES ('cases', 1);
