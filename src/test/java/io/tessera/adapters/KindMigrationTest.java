package io.tessera.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.engine.adapter.Adapter;
import io.tessera.testing.NeedsServices;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/** V2 moves rows written under V1 to the kind enum and each kind's own columns; the enum is the engine's kinds. */
@NeedsServices
class KindMigrationTest {
    private static final String SCHEMA = "kind_migration_test";

    private static Flyway flyway(String url, String target) {
        return Flyway.configure().dataSource(url, System.getenv().getOrDefault("TESSERA_TEST_PG_USER", "tessera"), "")
                .schemas(SCHEMA).cleanDisabled(false).target(target).load();
    }

    @Test
    void movesVirtualTokensOutOfRankAndKeepsEachKind() throws SQLException {
        String url = System.getenv("TESSERA_TEST_PG_URL");
        assertThat(url).as("TESSERA_TEST_PG_URL (see .ci/services)").isNotBlank();
        flyway(url, "1").clean();
        flyway(url, "1").migrate();
        try (Connection c = DriverManager.getConnection(url, System.getenv().getOrDefault("TESSERA_TEST_PG_USER", "tessera"), "");
             Statement s = c.createStatement()) {
            s.execute("set search_path to " + SCHEMA);
            s.execute("insert into tenant (id, name) values (1, 't')");
            s.execute("""
                    insert into adapter (id, tenant_id, name, kind, base_model) values
                      (1, 1, 'l', 'LORA', 'm'), (2, 1, 'd', 'DORA', 'm'), (3, 1, 'p', 'PROMPT_TUNING', 'm'),
                      (4, 1, 'g', 'MOGE_EXPERT_GROUPS', 'm')""");
            s.execute("""
                    insert into adapter_version (adapter_id, version, blob_sha256, size_bytes, rank, target_modules) values
                      (1, 1, repeat('a', 64), 1, 16, 'q_proj,v_proj'), (2, 1, repeat('b', 64), 1, 4, 'q_proj'),
                      (3, 1, repeat('c', 64), 1, 16, 'prompt'), (4, 1, repeat('d', 64), 1, null, 'expert groups 0,2')""");
            flyway(url, "latest").migrate();
            // V3: DePT, a kind with a max_length of its own
            s.execute("insert into adapter (id, tenant_id, name, kind, base_model) values (5, 1, 'x', 'PROMPT_TUNING_LORA', 'm')");
            s.execute("""
                    insert into adapter_version (adapter_id, version, blob_sha256, size_bytes, rank, virtual_tokens, max_length,
                      target_modules) values (5, 1, repeat('e', 64), 1, 4, 6, 12, 'prompt,embed_tokens')""");
            List<String> rows = new ArrayList<>();
            try (ResultSet r = s.executeQuery("""
                    select a.kind, pg_typeof(a.kind)::text, v.rank, v.virtual_tokens, v.expert_groups, v.max_length
                    from adapter a join adapter_version v on v.adapter_id = a.id order by a.id""")) {
                while (r.next()) {
                    Array groups = r.getArray(5);
                    rows.add(r.getString(1) + " " + r.getString(2) + " " + r.getObject(3) + " " + r.getObject(4) + " "
                            + (groups == null ? null : List.of((Integer[]) groups.getArray())) + " " + r.getObject(6));
                }
            }
            try (ResultSet r = s.executeQuery("select unnest(enum_range(null::adapter_kind))::text")) {
                List<String> kinds = new ArrayList<>();
                while (r.next()) {
                    kinds.add(r.getString(1));
                }
                assertThat(kinds).as("the schema's kinds are the engine's").containsExactlyElementsOf(
                        Arrays.stream(Adapter.Kind.values()).map(Enum::name).toList());
            }
            assertThat(rows).containsExactly(
                    "LORA adapter_kind 16 null null null",
                    "DORA adapter_kind 4 null null null",
                    "PROMPT_TUNING adapter_kind null 16 null null",
                    "MOGE_EXPERT_GROUPS adapter_kind null null [0, 2] null",
                    "PROMPT_TUNING_LORA adapter_kind 4 6 null 12");
        } finally {
            flyway(url, "latest").clean();
        }
    }
}
