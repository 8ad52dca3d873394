-- Usage for charts: per minute as requests finish their charges (UsageLedger flushes it in batches), rolled up into
-- hours after two hours, hours kept for tessera.usage.retention. Redis keeps the running totals the rate limits use.
-- model is the name the request was served under (an adapter, name@version, or the base model), never a raw string.
create table usage_minute (
    tenant_id         bigint      not null references tenant (id) on delete cascade,
    model             text        not null,
    minute            timestamptz not null,   -- start of the minute
    requests          bigint      not null default 0,
    prompt_tokens     bigint      not null default 0,
    completion_tokens bigint      not null default 0,
    primary key (tenant_id, model, minute)
);
-- the roll-up and the all-tenants series read by time
create index usage_minute_minute on usage_minute (minute);

create table usage_hour (
    tenant_id         bigint      not null references tenant (id) on delete cascade,
    model             text        not null,
    hour              timestamptz not null,   -- start of the hour (UTC)
    requests          bigint      not null default 0,
    prompt_tokens     bigint      not null default 0,
    completion_tokens bigint      not null default 0,
    primary key (tenant_id, model, hour)
);
create index usage_hour_hour on usage_hour (hour);
