-- Adapter kinds as an enum, each kind's own parameters in their own columns: rank (LORA, DORA), virtual_tokens
-- (PROMPT_TUNING, which V1 kept in rank), expert_groups (MOGE_EXPERT_GROUPS, which V1 kept only in the listing text).
-- DoRA adapters were recorded as DORA from the start: the cast keeps them their own kind.
create type adapter_kind as enum ('LORA', 'DORA', 'PROMPT_TUNING', 'MOGE_EXPERT_GROUPS');
alter table adapter alter column kind type adapter_kind using kind::adapter_kind;

alter table adapter_version
    add column virtual_tokens integer check (virtual_tokens > 0),
    add column expert_groups  integer[];

update adapter_version v set virtual_tokens = v.rank, rank = null
from adapter a where a.id = v.adapter_id and a.kind = 'PROMPT_TUNING';

-- V1 wrote 'expert groups 0,2' as target_modules
update adapter_version v set expert_groups = string_to_array(substring(v.target_modules from '^expert groups (.*)$'), ',')::integer[]
from adapter a where a.id = v.adapter_id and a.kind = 'MOGE_EXPERT_GROUPS';
