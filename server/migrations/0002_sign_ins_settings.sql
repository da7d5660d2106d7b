-- Issue #10: QR sign-ins (and the revocation list of their web tokens), and
-- the per-account switch for QR sign-in. Portable SQL: SQLite and PostgreSQL.
-- Times are Unix seconds (BIGINT).
ALTER TABLE users ADD COLUMN qr_login_enabled BOOLEAN NOT NULL DEFAULT TRUE;

-- One row per ticket a user confirmed. Written at the confirm (which app
-- session said yes) and at the exchange (the web token it produced), in
-- either order; listed once `signed_in_at` is set.
CREATE TABLE sign_ins (
    ticket_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_session_id TEXT,
    device_name TEXT,
    requester_ip TEXT NOT NULL,
    requester_user_agent TEXT NOT NULL,
    requester_browser TEXT NOT NULL,
    requester_os TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    signed_in_at BIGINT,
    token_id TEXT UNIQUE,
    token_expires_at BIGINT,
    revoked_at BIGINT
);

CREATE INDEX sign_ins_user ON sign_ins (user_id, signed_in_at);
CREATE INDEX sign_ins_revoked ON sign_ins (revoked_at, token_expires_at);
