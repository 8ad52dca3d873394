package io.tessera.persistence;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** One admin action, written in the same transaction as the change it records. */
@Entity
@Table(name = "audit_log")
public class AuditEntry extends PanacheEntityBase {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false, insertable = false, updatable = false)
    public Instant at;
    @Column(nullable = false)
    public String actor;
    @Column(name = "tenant_id")
    public Long tenantId;
    @Column(nullable = false)
    public String action;
    public String target;
    public String detail;

    public static void record(String actor, Long tenantId, String action, String target, String detail) {
        AuditEntry e = new AuditEntry();
        e.actor = actor;
        e.tenantId = tenantId;
        e.action = action;
        e.target = target;
        e.detail = detail;
        e.persist();
    }
}
