-- The territory tree: divisions, grids and micro-grids in one table keyed by code.
-- Codes use the C collation so that a subtree is an index range [prefix, prefix || ':').
CREATE TABLE regions (
    code            TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    level           TEXT NOT NULL,
    name            TEXT NOT NULL,
    parent_code     TEXT COLLATE "C" REFERENCES regions(code),
    kind            TEXT NOT NULL,
    households_est  BIGINT NOT NULL DEFAULT 0,
    population_est  BIGINT NOT NULL DEFAULT 0,
    area_km2        DOUBLE PRECISION NOT NULL DEFAULT 0,
    center_lon      DOUBLE PRECISION,
    center_lat      DOUBLE PRECISION,
    min_lon         DOUBLE PRECISION,
    min_lat         DOUBLE PRECISION,
    max_lon         DOUBLE PRECISION,
    max_lat         DOUBLE PRECISION,
    geometry        TEXT,
    source          TEXT NOT NULL
);
CREATE INDEX regions_parent ON regions (parent_code);
CREATE INDEX regions_level ON regions (level, code);
