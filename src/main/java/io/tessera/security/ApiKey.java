package io.tessera.security;

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

/** A tenant's API key, kept only as its SHA-256. */
@Entity
@Table(name = "api_key")
public class ApiKey extends PanacheEntityBase {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @ManyToOne(fetch = FetchType.EAGER, optional = false)
    @JoinColumn(name = "tenant_id")
    public Tenant tenant;
    @Column(name = "key_hash", nullable = false, unique = true)
    public String keyHash;
    @Column(nullable = false)
    public String prefix;
    @Column(name = "created_at", nullable = false, insertable = false, updatable = false)
    public Instant createdAt;
    @Column(name = "revoked_at")
    public Instant revokedAt;
}
