-- The territory tree: divisions, grids and micro-grids in one table keyed by code.
CREATE TABLE regions (
    code            TEXT PRIMARY KEY NOT NULL,
    level           TEXT NOT NULL,
    name            TEXT NOT NULL,
    parent_code     TEXT REFERENCES regions(code),
    kind            TEXT NOT NULL,
    households_est  INTEGER NOT NULL DEFAULT 0,
    population_est  INTEGER NOT NULL DEFAULT 0,
    area_km2        REAL NOT NULL DEFAULT 0,
    center_lon      REAL,
    center_lat      REAL,
    min_lon         REAL,
    min_lat         REAL,
    max_lon         REAL,
    max_lat         REAL,
    geometry        TEXT,
    source          TEXT NOT NULL
);
CREATE INDEX regions_parent ON regions (parent_code);
CREATE INDEX regions_level ON regions (level, code);
