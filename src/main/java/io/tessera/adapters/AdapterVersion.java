package io.tessera.adapters;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.FetchType;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** One immutable upload of an adapter; the weights are the blob with {@link #blobSha256}. */
@Entity
@Table(name = "adapter_version")
public class AdapterVersion extends PanacheEntityBase {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @ManyToOne(fetch = FetchType.LAZY, optional = false)
    @JoinColumn(name = "adapter_id")
    public RegisteredAdapter adapter;
    @Column(nullable = false)
    public int version;
    @Column(name = "blob_sha256", nullable = false)
    public String blobSha256;
    @Column(name = "size_bytes", nullable = false)
    public long sizeBytes;
    /** LoRA and DoRA: the largest rank; DePT: the rank of its embedding update; null for other kinds. */
    public Integer rank;
    /** Prompt tuning and DePT: the embeddings it prepends; null for other kinds. */
    @Column(name = "virtual_tokens")
    public Integer virtualTokens;
    /** DePT: the prompt positions its embedding update covers; null for other kinds. */
    @Column(name = "max_length")
    public Integer maxLength;
    /** MoGE expert groups: the groups it replaces, ascending; null for other kinds. */
    @Column(name = "expert_groups")
    @JdbcTypeCode(SqlTypes.ARRAY)
    public Integer[] expertGroups;
    @Column(name = "target_modules", nullable = false)
    public String targetModules;
    @Column(name = "created_at", nullable = false, insertable = false, updatable = false)
    public Instant createdAt;

    public static List<AdapterVersion> of(RegisteredAdapter a) {
        return list("adapter = ?1 order by version", a);
    }

    public static Optional<AdapterVersion> of(RegisteredAdapter a, int version) {
        return find("adapter = ?1 and version = ?2", a, version).firstResultOptional();
    }

    public static boolean referenced(String sha256) {
        return count("blobSha256", sha256) > 0;
    }
}
