-- DePT adapters (peft_type PROMPT_TUNING_LORA), a kind of their own: rank and virtual_tokens as the other kinds keep
-- them, max_length (the prompt positions their embedding update covers) in its own column, null for other kinds.
-- Adding an enum value inside Flyway's transaction is fine (PostgreSQL 12+) as long as this migration does not use it.
alter type adapter_kind add value 'PROMPT_TUNING_LORA';

alter table adapter_version add column max_length integer check (max_length > 0);
