-- Adapter registry: tenants, API keys, adapters with immutable versions, audit log.

create table tenant (
    id                  bigserial primary key,
    name                text        not null unique,
    requests_per_minute integer,            -- null: the configured default
    tokens_per_minute   integer,            -- null: the configured default
    created_at          timestamptz not null default now()
);

-- only the SHA-256 of a key is kept; the key itself is shown once, when it is made
create table api_key (
    id         bigserial primary key,
    tenant_id  bigint      not null references tenant (id) on delete cascade,
    key_hash   char(64)    not null unique,
    prefix     text        not null,        -- first characters, to tell keys apart in listings
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);

create table adapter (
    id             bigserial primary key,
    tenant_id      bigint      not null references tenant (id) on delete cascade,
    name           text        not null,
    kind           text        not null,    -- LORA, DORA, PROMPT_TUNING, MOGE_EXPERT_GROUPS
    base_model     text        not null,
    active_version integer,
    pinned         boolean     not null default false,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    unique (tenant_id, name)
);

-- immutable once written; the weights are the blob with this SHA-256
create table adapter_version (
    id             bigserial primary key,
    adapter_id     bigint      not null references adapter (id) on delete cascade,
    version        integer     not null,
    blob_sha256    char(64)    not null,
    size_bytes     bigint      not null,
    rank           integer,
    target_modules text        not null,    -- comma-separated module names, or the PEFT regex
    created_at     timestamptz not null default now(),
    unique (adapter_id, version)
);
create index adapter_version_blob on adapter_version (blob_sha256);

create table audit_log (
    id        bigserial primary key,
    at        timestamptz not null default now(),
    actor     text        not null,         -- "admin" or "tenant:<name>"
    tenant_id bigint,                       -- kept when the tenant goes: the log outlives it
    action    text        not null,
    target    text,
    detail    text
);
create index audit_log_tenant on audit_log (tenant_id, at);
