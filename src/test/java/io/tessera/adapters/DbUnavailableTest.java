package io.tessera.adapters;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.persistence.Db;
import java.net.ConnectException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** Db.unavailable decides by exception type, SQLSTATE and origin; a message alone decides nothing. */
class DbUnavailableTest {

    @Test
    void connectionFailuresAreUnavailable() {
        assertTrue(Db.unavailable(new RuntimeException(new SQLException("x", "08001"))));
        assertTrue(Db.unavailable(new RuntimeException(new ConnectException("refused"))));
        assertTrue(Db.unavailable(new java.sql.SQLTransientConnectionException("x")));
    }

    @Test
    void thePoolsTimeoutIsToldByWhereItWasThrownNotByItsMessage() {
        SQLException pool = new SQLException("any wording");
        pool.setStackTrace(new StackTraceElement[] {
            new StackTraceElement("io.agroal.pool.ConnectionPool", "getConnection", "ConnectionPool.java", 1)});
        assertTrue(Db.unavailable(new RuntimeException(pool)));
        assertFalse(Db.unavailable(new RuntimeException(new SQLException("Acquisition timeout while waiting for new connection"))));
    }

    @Test
    void aWrongQueryIsNotUnavailable() {
        assertFalse(Db.unavailable(new RuntimeException(new SQLException("duplicate key", "23505"))));
        assertFalse(Db.unavailable(new IllegalStateException("no")));
    }
}
