-- Collate store, schema version 3: saved custom collections (analytics).
-- A saved collection is a named filter; empty lists mean no restriction.
CREATE TABLE saved_collections (
    name       VARCHAR PRIMARY KEY,
    title      VARCHAR NOT NULL,
    nations    VARCHAR[] NOT NULL,
    regions    VARCHAR[] NOT NULL,
    boards     VARCHAR[] NOT NULL,
    year_from  INTEGER,
    year_to    INTEGER,
    kinds      VARCHAR[] NOT NULL,
    agencies   VARCHAR[] NOT NULL,
    frame      VARCHAR,
    created_by VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);
