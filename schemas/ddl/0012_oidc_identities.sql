-- (Numbered 12: for a few minutes on 28 November 2026 step 11 added columns to
-- users instead, which stores migrated then keep, unused.)
-- An account made by single sign-on is tied to the provider's identity: the
-- issuer and the subject, which a provider never reassigns, unlike a user
-- name. Accounts with a password have none. (A table of its own, not new
-- columns on users: DuckDB 1.5.6 cannot replay an ALTER TABLE of users from
-- the write-ahead log after a crash, because of the sequence default on id.)
CREATE TABLE oidc_identities (
    user_id BIGINT PRIMARY KEY,
    issuer  VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,
    UNIQUE (issuer, subject)
);
