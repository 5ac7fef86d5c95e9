-- The register of houses and people (先房后人). Codes compare bytewise, so a subtree is an
-- index range. Personal data is stored only sealed (id/phone *_sealed), as a
-- keyed lookup hash (*_lookup) and in masked form (*_masked); never in clear.
CREATE TABLE compounds (
    id          INTEGER PRIMARY KEY,
    grid_code   TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    lon         REAL NOT NULL,
    lat         REAL NOT NULL
);
CREATE INDEX compounds_grid ON compounds (grid_code);

CREATE TABLE buildings (
    id          INTEGER PRIMARY KEY,
    compound_id BIGINT NOT NULL REFERENCES compounds (id),
    cell_code   TEXT NOT NULL,
    name        TEXT NOT NULL,
    floors      INTEGER NOT NULL,
    units       INTEGER NOT NULL,
    lon         REAL NOT NULL,
    lat         REAL NOT NULL
);
CREATE INDEX buildings_compound ON buildings (compound_id);
CREATE INDEX buildings_cell ON buildings (cell_code);

CREATE TABLE rooms (
    id          INTEGER PRIMARY KEY,
    building_id BIGINT NOT NULL REFERENCES buildings (id),
    cell_code   TEXT NOT NULL,
    unit        INTEGER NOT NULL,
    floor       INTEGER NOT NULL,
    label       TEXT NOT NULL
);
CREATE INDEX rooms_building ON rooms (building_id);

CREATE TABLE households (
    id            INTEGER PRIMARY KEY,
    room_id       BIGINT NOT NULL REFERENCES rooms (id),
    cell_code     TEXT NOT NULL,
    status        TEXT NOT NULL,
    since_date    TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX households_cell ON households (cell_code, id);
CREATE INDEX households_room ON households (room_id);

CREATE TABLE residents (
    id            INTEGER PRIMARY KEY,
    household_id  BIGINT NOT NULL REFERENCES households (id),
    cell_code     TEXT NOT NULL,
    name          TEXT NOT NULL,
    sex           TEXT NOT NULL,
    birth_date    TEXT NOT NULL,
    id_sealed     BLOB,
    id_lookup     BLOB,
    id_masked     TEXT,
    phone_sealed  BLOB,
    phone_lookup  BLOB,
    phone_masked  TEXT,
    relation      TEXT NOT NULL,
    residence     TEXT NOT NULL,
    status        TEXT NOT NULL,
    since_date    TEXT NOT NULL,
    until_date    TEXT
);
CREATE INDEX residents_household ON residents (household_id);
CREATE INDEX residents_cell ON residents (cell_code, id);
CREATE INDEX residents_id_lookup ON residents (id_lookup);
CREATE INDEX residents_phone_lookup ON residents (phone_lookup);
CREATE INDEX residents_name ON residents (name);

CREATE TABLE resident_tags (
    id          INTEGER PRIMARY KEY,
    resident_id BIGINT NOT NULL REFERENCES residents (id),
    cell_code   TEXT NOT NULL,
    tag         TEXT NOT NULL,
    set_on      TEXT NOT NULL,
    set_by      TEXT NOT NULL,
    cleared_on  TEXT,
    cleared_by  TEXT,
    note        TEXT
);
CREATE INDEX resident_tags_resident ON resident_tags (resident_id);
CREATE INDEX resident_tags_tag ON resident_tags (tag, cell_code, resident_id);

CREATE TABLE staff (
    id             INTEGER PRIMARY KEY,
    community_code TEXT NOT NULL,
    name           TEXT NOT NULL,
    sex            TEXT NOT NULL,
    phone_sealed   BLOB,
    phone_lookup   BLOB,
    phone_masked   TEXT,
    role           TEXT NOT NULL
);
CREATE INDEX staff_community ON staff (community_code);
CREATE INDEX staff_phone_lookup ON staff (phone_lookup);

CREATE TABLE staff_assignments (
    id          INTEGER PRIMARY KEY,
    staff_id    BIGINT NOT NULL REFERENCES staff (id),
    region_code TEXT NOT NULL,
    role        TEXT NOT NULL,
    since_date  TEXT NOT NULL,
    until_date  TEXT
);
CREATE INDEX staff_assignments_region ON staff_assignments (region_code);
CREATE INDEX staff_assignments_staff ON staff_assignments (staff_id);

-- History: every operation on the register, with the state before and after (JSON).
CREATE TABLE register_events (
    id           INTEGER PRIMARY KEY,
    at_ms        BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    cell_code    TEXT NOT NULL,
    household_id BIGINT,
    resident_id  BIGINT,
    detail       TEXT NOT NULL
);
CREATE INDEX register_events_household ON register_events (household_id, id);
CREATE INDEX register_events_resident ON register_events (resident_id, id);

-- Live counts per region at every level, kept in the transaction of each change.
CREATE TABLE region_counts (
    region_code TEXT NOT NULL,
    metric      TEXT NOT NULL,
    value       BIGINT NOT NULL,
    PRIMARY KEY (region_code, metric)
);

-- Which grids the synthetic register has been loaded for: a load resumes after the last
-- committed grid and never writes a grid twice.
CREATE TABLE register_loads (
    grid_code    TEXT PRIMARY KEY,
    seed         BIGINT NOT NULL,
    as_of        TEXT NOT NULL,
    row_count    BIGINT NOT NULL,
    digest       TEXT NOT NULL,
    loaded_at_ms BIGINT NOT NULL
);

-- Ids handed out by the live system start at 2^40, above every generated id.
CREATE TABLE id_sequences (
    name    TEXT PRIMARY KEY,
    next_id BIGINT NOT NULL
);
INSERT INTO id_sequences (name, next_id) VALUES
    ('compounds', 1099511627776), ('buildings', 1099511627776), ('rooms', 1099511627776),
    ('households', 1099511627776), ('residents', 1099511627776),
    ('resident_tags', 1099511627776), ('staff', 1099511627776),
    ('staff_assignments', 1099511627776), ('register_events', 1);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
