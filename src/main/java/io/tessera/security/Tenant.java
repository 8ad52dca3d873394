package io.tessera.security;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.Optional;

@Entity
@Table(name = "tenant")
public class Tenant extends PanacheEntityBase {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false, unique = true)
    public String name;
    @Column(name = "requests_per_minute")
    public Integer requestsPerMinute;
    @Column(name = "tokens_per_minute")
    public Integer tokensPerMinute;
    @Column(name = "created_at", nullable = false, insertable = false, updatable = false)
    public Instant createdAt;

    public static Optional<Tenant> byName(String name) {
        return find("name", name).firstResultOptional();
    }
}
