-- An account made by single sign-on is tied to the provider's identity: the
-- issuer and the subject, which a provider never reassigns, unlike a user
-- name. Accounts with a password have neither.
ALTER TABLE users ADD COLUMN oidc_issuer VARCHAR;
ALTER TABLE users ADD COLUMN oidc_subject VARCHAR;
