-- Issue 15: the OpenID Provider. Registered clients, authorization codes and
-- refresh tokens; an optional email per user; a sign-in names the client it
-- was for. Portable SQL: SQLite and PostgreSQL. Times are Unix seconds.
ALTER TABLE users ADD COLUMN email TEXT;

-- A relying party. `secret_hash` is the SHA-256 (hex) of the client secret,
-- NULL for a public client; `redirect_uris` is a JSON array of strings.
CREATE TABLE oauth_clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT,
    redirect_uris TEXT NOT NULL,
    id_token_alg TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The sign-in (one per confirmed ticket) is the grant: its revoke ends the
-- client's refresh and access tokens.
ALTER TABLE sign_ins ADD COLUMN client_id TEXT;
ALTER TABLE sign_ins ADD COLUMN client_name TEXT;

-- An authorization code: single use, short-lived, bound to the grant (the
-- ticket), the client and the request (`request`: the JSON binding with its
-- redirect URI, scope, nonce and PKCE challenge). Stored by SHA-256 (hex).
CREATE TABLE oauth_codes (
    code_hash TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    request TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE INDEX oauth_codes_expiry ON oauth_codes (expires_at);

-- A refresh token, rotated on every use: `used_at` set means it was
-- exchanged, and a second use revokes the whole grant (its family).
CREATE TABLE oauth_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (ticket_id);
