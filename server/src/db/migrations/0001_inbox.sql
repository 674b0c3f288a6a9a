-- The city's inbox, for SQLite and PostgreSQL alike (see server/src/db/mod.rs for the dialect rules).
-- Times are Unix seconds (BIGINT); flags are 0/1 (BIGINT); ids come from `counters`.

CREATE TABLE counters (
    name TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);

-- The offices that receive reports. `delivery`: inbox (the web inbox only), email, open311.
CREATE TABLE offices (
    name TEXT PRIMARY KEY NOT NULL,
    delivery TEXT NOT NULL DEFAULT 'inbox',
    email TEXT,
    endpoint TEXT,
    endpoint_api_key TEXT,
    endpoint_jurisdiction TEXT,
    -- JSON object: our service code -> the office system's service code.
    service_map TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

-- Which office receives Open311 requests of each kind (the phone names its office from the pack's routes).
CREATE TABLE routes (
    city_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    office TEXT NOT NULL REFERENCES offices (name),
    PRIMARY KEY (city_id, kind)
);

CREATE TABLE reports (
    id BIGINT PRIMARY KEY NOT NULL,
    key TEXT NOT NULL UNIQUE,
    reference TEXT NOT NULL UNIQUE,
    installation TEXT,
    source TEXT NOT NULL,
    city_id TEXT NOT NULL,
    office TEXT NOT NULL,
    category TEXT NOT NULL,
    place_id TEXT,
    place_name TEXT,
    address TEXT,
    text TEXT NOT NULL,
    rating BIGINT,
    photo TEXT,
    contact TEXT,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    accuracy_m DOUBLE PRECISION,
    lang TEXT,
    public BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'open',
    public_reply TEXT,
    duplicate_of BIGINT REFERENCES reports (id),
    created_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX reports_by_office ON reports (office, received_at);
CREATE INDEX reports_by_installation ON reports (installation, received_at);
CREATE INDEX reports_by_time ON reports (received_at);
CREATE INDEX reports_by_source ON reports (source, received_at);
CREATE INDEX reports_by_update ON reports (updated_at);

-- Every change of status, with the public reply; the history FixMyStreet's servicerequestupdates lists.
CREATE TABLE report_updates (
    id BIGINT PRIMARY KEY NOT NULL,
    report_id BIGINT NOT NULL REFERENCES reports (id),
    status TEXT NOT NULL,
    public_reply TEXT,
    author TEXT NOT NULL,
    external_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX report_updates_by_report ON report_updates (report_id, id);
CREATE INDEX report_updates_by_time ON report_updates (created_at);
CREATE UNIQUE INDEX report_updates_external ON report_updates (author, external_id) WHERE external_id IS NOT NULL;

-- Consultations the server accepts ballots for, with the rules fixed when voting opens.
-- rule: single, up_to (pick up to max_choices), budget (options' costs within budget).
-- options: JSON array of {"id": ..., "cost": ...}.
CREATE TABLE consultations (
    city_id TEXT NOT NULL,
    id TEXT NOT NULL,
    rule TEXT NOT NULL DEFAULT 'single',
    max_choices BIGINT NOT NULL DEFAULT 1,
    budget BIGINT NOT NULL DEFAULT 0,
    options TEXT NOT NULL,
    proposals_opens BIGINT NOT NULL DEFAULT 0,
    opens BIGINT NOT NULL,
    closes BIGINT NOT NULL,
    PRIMARY KEY (city_id, id)
);

CREATE TABLE ballot_requests (
    key TEXT PRIMARY KEY NOT NULL,
    installation TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX ballot_requests_by_installation ON ballot_requests (installation, received_at);

-- One ballot per installation and consultation: the one with the highest seq. options: JSON array of option ids.
CREATE TABLE ballots (
    city_id TEXT NOT NULL,
    consultation_id TEXT NOT NULL,
    installation TEXT NOT NULL,
    options TEXT NOT NULL,
    seq BIGINT NOT NULL,
    cast_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (city_id, consultation_id, installation)
);

-- People who work in the browser inbox. role: admin or staff (staff belong to one office).
CREATE TABLE users (
    name TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    office TEXT REFERENCES offices (name),
    lang TEXT NOT NULL DEFAULT 'bg',
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- Signed-in sessions: only the SHA-256 of the cookie's token is stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_name TEXT NOT NULL REFERENCES users (name),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Open311 API keys: only their SHA-256 is stored. A key with an office belongs to that office's own system (it may
-- post updates for the office's reports); a key without one is a client that posts requests.
CREATE TABLE api_keys (
    key_hash TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    office TEXT REFERENCES offices (name),
    revoked BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- Reports waiting to reach an office's own system (e-mail or Open311), retried with backoff; `dead` after the last
-- attempt, listed for the administrator.
CREATE TABLE deliveries (
    report_id BIGINT PRIMARY KEY NOT NULL REFERENCES reports (id),
    office TEXT NOT NULL,
    channel TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    external_id TEXT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
