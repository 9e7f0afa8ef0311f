-- Collate store, schema version 1.
-- One row in reviews per version of a review; status says which version counts.
CREATE TABLE schema_version (
    version    INTEGER NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE frames (
    frame_id      VARCHAR NOT NULL,
    frame_version VARCHAR NOT NULL,
    title         VARCHAR NOT NULL,
    body          VARCHAR NOT NULL,
    registered_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (frame_id, frame_version)
);

-- Every node of every frame tree; tree is 'factor' or 'pattern'. depth 1 is the top.
CREATE TABLE frame_nodes (
    frame_id      VARCHAR NOT NULL,
    frame_version VARCHAR NOT NULL,
    tree          VARCHAR NOT NULL,
    code          VARCHAR NOT NULL,
    parent        VARCHAR,
    depth         INTEGER NOT NULL,
    ord           INTEGER NOT NULL,
    label         VARCHAR NOT NULL,
    PRIMARY KEY (frame_id, frame_version, tree, code)
);

-- Each node paired with itself and every ancestor, so counts roll up any depth.
CREATE TABLE frame_closure (
    frame_id      VARCHAR NOT NULL,
    frame_version VARCHAR NOT NULL,
    tree          VARCHAR NOT NULL,
    ancestor      VARCHAR NOT NULL,
    descendant    VARCHAR NOT NULL
);

CREATE TABLE geography (
    board       VARCHAR PRIMARY KEY,
    board_name  VARCHAR NOT NULL,
    region      VARCHAR NOT NULL,
    region_name VARCHAR NOT NULL,
    nation      VARCHAR NOT NULL,
    nation_name VARCHAR NOT NULL
);

CREATE TABLE reviews (
    review_key          BIGINT PRIMARY KEY,
    review_id           VARCHAR NOT NULL,
    version             INTEGER NOT NULL,
    status              VARCHAR NOT NULL, -- current | superseded | withdrawn
    board               VARCHAR NOT NULL,
    region              VARCHAR NOT NULL,
    nation              VARCHAR NOT NULL,
    kind                VARCHAR NOT NULL,
    year                INTEGER NOT NULL,
    month               INTEGER,
    questions           VARCHAR[] NOT NULL,
    agencies            VARCHAR[] NOT NULL,
    participants        STRUCT(role VARCHAR, agency VARCHAR)[],
    family_participation VARCHAR NOT NULL, -- yes | no | not_recorded
    stage_preliminary   VARCHAR NOT NULL,
    stage_interim       VARCHAR NOT NULL,
    stage_final         VARCHAR NOT NULL,
    frame_id            VARCHAR NOT NULL,
    frame_version       VARCHAR NOT NULL,
    coder_role          VARCHAR NOT NULL,
    coding_method       VARCHAR NOT NULL,
    agreement_measure   VARCHAR,
    agreement_value     DOUBLE,
    n_episodes          INTEGER NOT NULL,
    n_patterns          INTEGER NOT NULL,
    n_recommendations   INTEGER NOT NULL,
    content_sha256      VARCHAR NOT NULL,
    source_name         VARCHAR NOT NULL,
    source_format       VARCHAR NOT NULL, -- json | xlsx | import
    uploaded_by         VARCHAR NOT NULL,
    ingested_at         TIMESTAMP NOT NULL,
    body                VARCHAR NOT NULL  -- the canonical export JSON, for history and export
);

CREATE TABLE episodes (
    review_key   BIGINT NOT NULL,
    episode_no   INTEGER NOT NULL,
    title        VARCHAR NOT NULL,
    description  VARCHAR NOT NULL,
    significance VARCHAR,
    adequacy     VARCHAR NOT NULL, -- good | problematic | mixed | not_judged
    agencies     VARCHAR[] NOT NULL,
    evidence     STRUCT(kind VARCHAR, note VARCHAR)[] NOT NULL
);

CREATE TABLE episode_factors (
    review_key BIGINT NOT NULL,
    episode_no INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    code       VARCHAR NOT NULL,
    detail     VARCHAR,
    influence  VARCHAR NOT NULL -- supported_good | made_problematic_more_likely
);

CREATE TABLE patterns (
    review_key   BIGINT NOT NULL,
    pattern_no   INTEGER NOT NULL,
    type_code    VARCHAR NOT NULL,
    sub_code     VARCHAR,
    proposed     VARCHAR,
    nature       VARCHAR NOT NULL, -- constructive | unsafe
    priority     INTEGER,
    widespread   VARCHAR NOT NULL,
    relevance    VARCHAR NOT NULL,
    summary      VARCHAR,
    episodes     INTEGER[] NOT NULL
);

CREATE TABLE recommendations (
    review_key BIGINT NOT NULL,
    rec_no     INTEGER NOT NULL,
    kind       INTEGER NOT NULL,
    level      VARCHAR NOT NULL,
    text       VARCHAR NOT NULL,
    patterns   INTEGER[] NOT NULL
);

CREATE TABLE withdrawals (
    review_id    VARCHAR NOT NULL,
    reason       VARCHAR NOT NULL,
    withdrawn_by VARCHAR NOT NULL,
    withdrawn_at TIMESTAMP NOT NULL
);

CREATE INDEX reviews_review_id ON reviews (review_id);
CREATE INDEX reviews_sha ON reviews (content_sha256);
