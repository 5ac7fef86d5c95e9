-- Identity and access: handling units, users with role bindings over territory scopes,
-- browser sessions and API tokens (stored only as hashes), and the hash-chained audit log.
CREATE TABLE handling_units (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    region_code TEXT COLLATE "C" NOT NULL
);

CREATE TABLE users (
    id              BIGINT PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    resident_id     BIGINT,
    status          TEXT NOT NULL,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until_ms BIGINT NOT NULL DEFAULT 0,
    created_at_ms   BIGINT NOT NULL
);

CREATE TABLE role_bindings (
    id            BIGINT PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id),
    role          TEXT NOT NULL,
    scope_code    TEXT COLLATE "C",
    unit_code     TEXT REFERENCES handling_units (code),
    granted_at_ms BIGINT NOT NULL,
    granted_by    TEXT NOT NULL
);
CREATE INDEX role_bindings_user ON role_bindings (user_id);

CREATE TABLE sessions (
    token_hash    BYTEA PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id),
    csrf_token    TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    ip            TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id            BIGINT PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL,
    token_hash    BYTEA NOT NULL UNIQUE,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT,
    revoked_at_ms BIGINT
);

-- Append-only. Each entry's hash covers its content and the previous entry's hash; the head
-- row is locked by every append so that the chain has one order.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at_ms       BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    region_code TEXT COLLATE "C",
    ip          TEXT,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
    VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

INSERT INTO id_sequences (name, next_id) VALUES ('users', 1), ('role_bindings', 1), ('api_tokens', 1);
