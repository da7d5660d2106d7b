-- Revoked web tokens that outlive their sign-in row: when a user is removed,
-- their sign-ins go with them, but relying parties that verify tokens
-- offline must keep seeing the user's unexpired tokens as revoked until they
-- expire. Rows past token_expires_at can be dropped at any time.
CREATE TABLE token_revocations (
    token_id TEXT PRIMARY KEY,
    token_expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);

CREATE INDEX token_revocations_expiry ON token_revocations (token_expires_at);
