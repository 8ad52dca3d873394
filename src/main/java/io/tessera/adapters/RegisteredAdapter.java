package io.tessera.adapters;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import io.tessera.engine.adapter.Adapter;
import io.tessera.security.Tenant;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.FetchType;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.Optional;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** An adapter name within a tenant; its weights are in {@link AdapterVersion}s, one of them active. */
@Entity
@Table(name = "adapter")
public class RegisteredAdapter extends PanacheEntityBase {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @ManyToOne(fetch = FetchType.EAGER, optional = false)
    @JoinColumn(name = "tenant_id")
    public Tenant tenant;
    @Column(nullable = false)
    public String name;
    @Column(nullable = false)
    @Enumerated(EnumType.STRING)
    @JdbcTypeCode(SqlTypes.NAMED_ENUM)   // the schema's adapter_kind
    public Adapter.Kind kind;
    @Column(name = "base_model", nullable = false)
    public String baseModel;
    @Column(name = "active_version")
    public Integer activeVersion;
    @Column(nullable = false)
    public boolean pinned;
    @Column(name = "created_at", nullable = false, insertable = false, updatable = false)
    public Instant createdAt;
    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    public static Optional<RegisteredAdapter> byName(long tenantId, String name) {
        return find("tenant.id = ?1 and name = ?2", tenantId, name).firstResultOptional();
    }
}
