-- Directives (指令) fanned out to every region of the target levels below the issuer, each
-- signing for and reporting back on the current version; household campaigns (入户排查)
-- with one task per targeted household, every visit kept, and coverage counters per round
-- and region kept with each visit.

CREATE TABLE directives (
    id            INTEGER PRIMARY KEY,
    issuer        TEXT NOT NULL,
    region_code   TEXT NOT NULL,
    title         TEXT NOT NULL,
    content       TEXT NOT NULL,
    target_levels TEXT NOT NULL,
    deadline_ms   BIGINT NOT NULL,
    version       BIGINT NOT NULL,
    issued_at_ms  BIGINT NOT NULL,
    status        TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    recipients    BIGINT NOT NULL
);
CREATE INDEX directives_region ON directives (region_code, id);

CREATE TABLE directive_attachments (
    id           INTEGER PRIMARY KEY,
    directive_id BIGINT NOT NULL REFERENCES directives (id),
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes        BLOB NOT NULL
);
CREATE INDEX directive_attachments_directive ON directive_attachments (directive_id);

CREATE TABLE directive_recipients (
    directive_id     BIGINT NOT NULL REFERENCES directives (id),
    region_code      TEXT NOT NULL,
    level            TEXT NOT NULL,
    signed_version   BIGINT NOT NULL DEFAULT 0,
    signed_at_ms     BIGINT,
    signed_by        TEXT,
    reported_version BIGINT NOT NULL DEFAULT 0,
    reported_at_ms   BIGINT,
    reported_by      TEXT,
    report           TEXT,
    reminded         BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (directive_id, region_code)
);
CREATE INDEX directive_recipients_region ON directive_recipients (region_code, directive_id);

CREATE TABLE directive_notices (
    id           INTEGER PRIMARY KEY,
    directive_id BIGINT NOT NULL,
    recipient    TEXT NOT NULL,
    region_code  TEXT NOT NULL,
    rule         TEXT NOT NULL,
    version      BIGINT NOT NULL,
    text_zh      TEXT NOT NULL,
    text_en      TEXT NOT NULL,
    at_ms        BIGINT NOT NULL
);
CREATE INDEX directive_notices_recipient ON directive_notices (recipient, id);

CREATE TABLE campaigns (
    id            INTEGER PRIMARY KEY,
    title         TEXT NOT NULL,
    region_code   TEXT NOT NULL,
    tag           TEXT,
    rounds        BIGINT NOT NULL,
    current_round BIGINT NOT NULL,
    form          TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    households    BIGINT NOT NULL
);

CREATE TABLE campaign_tasks (
    campaign_id    BIGINT NOT NULL,
    household_id   BIGINT NOT NULL,
    cell_code      TEXT NOT NULL,
    round          BIGINT NOT NULL,
    status         TEXT NOT NULL,
    outcome        TEXT,
    visited_at_ms  BIGINT,
    client_id      TEXT,
    visits         BIGINT NOT NULL DEFAULT 0,
    revisit_due_ms BIGINT,
    PRIMARY KEY (campaign_id, household_id)
);
CREATE INDEX campaign_tasks_cell ON campaign_tasks (campaign_id, cell_code, household_id);

CREATE TABLE campaign_visits (
    id             INTEGER PRIMARY KEY,
    campaign_id    BIGINT NOT NULL,
    round          BIGINT NOT NULL,
    household_id   BIGINT NOT NULL,
    client_id      TEXT NOT NULL,
    worker         TEXT NOT NULL,
    visited_at_ms  BIGINT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    outcome        TEXT NOT NULL,
    answers        TEXT NOT NULL,
    finding        TEXT,
    case_id        BIGINT,
    UNIQUE (campaign_id, client_id)
);
CREATE INDEX campaign_visits_household ON campaign_visits (campaign_id, household_id);

CREATE TABLE campaign_coverage (
    campaign_id BIGINT NOT NULL,
    round       BIGINT NOT NULL,
    scope       TEXT NOT NULL,
    metric      TEXT NOT NULL,
    value       BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, round, scope, metric)
);
