//! Provisioning's tables in the wallet database, added as one entry of the store's migration
//! list (`store::schema::MIGRATIONS`).
//!
//! Nothing here holds a PAN, CVV or OTP. Private keys and the replenishment MAC key are sealed
//! under the wallet's data key (AAD: table, row, column). `pending_*` columns are the outbox:
//! the step and idempotency key of a request are committed before the request is sent, so
//! after a crash or a lost answer the same request can be sent again and the server answers
//! it once.

pub const MIGRATION_NAME: &str = "token: device keys, provisionings, token cards, event cursor";

pub const MIGRATION_SQL: &str = r#"
-- The device identity registered with the token service (one row).
CREATE TABLE token_device (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    device_id     TEXT NOT NULL,
    -- sealed PKCS#8 ECDSA P-256 key; sealed P-256 scalar for ECDH
    signing_key   BLOB NOT NULL,
    agreement_key BLOB NOT NULL,
    -- the server this device is registered with; NULL until registration succeeded
    registered_at TEXT,
    created_at    INTEGER NOT NULL
);

-- One row per attempt to add a card.
CREATE TABLE token_provisionings (
    id              TEXT PRIMARY KEY,
    server_url      TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('new', 'eligible', 'terms_accepted', 'tokenize_sent',
                        'idv_required', 'idv_pending', 'approved', 'credentials_pending', 'active',
                        'declined', 'failed')),
    scheme          TEXT,
    pan_suffix      TEXT,
    terms           TEXT,
    idv_methods     TEXT,
    idv_method      TEXT,
    otp_attempts_left INTEGER,
    token_ref       TEXT,
    pending_step    TEXT,
    pending_key     TEXT,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX token_provisionings_open ON token_provisionings(updated_at)
    WHERE state NOT IN ('active', 'declined', 'failed');

-- One row per card that came from the token service; `card_id` is the store's card id.
CREATE TABLE token_cards (
    ref              INTEGER PRIMARY KEY AUTOINCREMENT,
    card_id          TEXT NOT NULL UNIQUE,
    token_ref        TEXT NOT NULL UNIQUE,
    provisioning_id  TEXT NOT NULL,
    server_url       TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('active', 'suspended', 'deleted')),
    -- sealed HMAC-SHA256 key for the replenishment log
    log_mac_key      BLOB NOT NULL,
    last_issued_atc  INTEGER NOT NULL CHECK (last_issued_atc BETWEEN 0 AND 65535),
    -- the highest ATC the server has acknowledged in a replenishment log
    reported_through INTEGER NOT NULL DEFAULT 0 CHECK (reported_through BETWEEN 0 AND 65535),
    pending_step     TEXT,
    pending_key      TEXT,
    pending_body     TEXT,
    updated_at       INTEGER NOT NULL
);

-- Where the event feed was read up to.
CREATE TABLE token_sync (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    events_after INTEGER NOT NULL
);
"#;
