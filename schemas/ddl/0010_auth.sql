-- Collate store, schema version 10: accounts, sessions, API tokens and the
-- audit log (issue 5). Package dashboard/auth owns every statement on these
-- tables. No foreign keys: DuckDB refuses updates to rows that are referenced,
-- and users are updated on every login.

CREATE SEQUENCE users_id_seq START 1;

-- role is admin | national_researcher | regional_analyst | board_member.
-- scope_region is set for regional analysts and board members, scope_board
-- for board members only. password_hash is an argon2id PHC string; NULL means
-- the account cannot log in with a password (single sign-on only).
CREATE TABLE users (
    id                  BIGINT PRIMARY KEY DEFAULT nextval('users_id_seq'),
    username            VARCHAR NOT NULL UNIQUE,
    email               VARCHAR,
    password_hash       VARCHAR,
    role                VARCHAR NOT NULL,
    scope_region        VARCHAR,
    scope_board         VARCHAR,
    unsuppressed_grant  BOOLEAN NOT NULL DEFAULT false,
    disabled            BOOLEAN NOT NULL DEFAULT false,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    last_failed_at      TIMESTAMP,
    locked_until        TIMESTAMP,
    password_changed_at TIMESTAMP,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    CHECK (role IN ('admin', 'national_researcher', 'regional_analyst', 'board_member'))
);

-- id_hash is the hex SHA-256 of the session id in the cookie; the id itself is
-- never stored. expires_at slides with use up to absolute_expires_at.
CREATE TABLE sessions (
    id_hash             VARCHAR PRIMARY KEY,
    user_id             BIGINT NOT NULL,
    csrf_secret         BLOB NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    last_seen           TIMESTAMP NOT NULL,
    expires_at          TIMESTAMP NOT NULL,
    absolute_expires_at TIMESTAMP NOT NULL,
    remote_addr         VARCHAR
);

-- A token is shown once as collate_<id>_<secret>; only the hex SHA-256 of the
-- secret is kept. Its scope is never wider than its owner's.
CREATE TABLE api_tokens (
    id                 VARCHAR PRIMARY KEY,
    user_id            BIGINT NOT NULL,
    secret_hash        VARCHAR NOT NULL,
    name               VARCHAR NOT NULL,
    role               VARCHAR NOT NULL,
    scope_region       VARCHAR,
    scope_board        VARCHAR,
    unsuppressed_grant BOOLEAN NOT NULL DEFAULT false,
    expires_at         TIMESTAMP NOT NULL,
    revoked_at         TIMESTAMP,
    created_at         TIMESTAMP NOT NULL,
    created_by         VARCHAR NOT NULL,
    last_used_at       TIMESTAMP
);

CREATE SEQUENCE audit_log_id_seq START 1;

-- One row per sensitive action. actor_kind is user | token | cli | anonymous;
-- outcome is ok | denied | failed. detail is a JSON object.
CREATE TABLE audit_log (
    id          BIGINT PRIMARY KEY DEFAULT nextval('audit_log_id_seq'),
    occurred_at TIMESTAMP NOT NULL,
    actor       VARCHAR NOT NULL,
    actor_kind  VARCHAR NOT NULL,
    action      VARCHAR NOT NULL,
    target      VARCHAR NOT NULL DEFAULT '',
    outcome     VARCHAR NOT NULL DEFAULT 'ok',
    detail      VARCHAR NOT NULL DEFAULT '{}',
    remote_addr VARCHAR NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_occurred_at ON audit_log (occurred_at);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
