package io.tessera.persistence;

import static io.tessera.persistence.RegistryException.Problem.CONFLICT;
import static io.tessera.persistence.RegistryException.Problem.UNAVAILABLE;

import io.quarkus.narayana.jta.QuarkusTransaction;
import java.net.ConnectException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.function.Supplier;

/** Transactions, and telling a database that is away from a query that is wrong. */
public final class Db {
    private Db() {
    }

    /**
     * Whether {@code e} (or a cause) says Postgres cannot be reached: connection refused, SQLSTATE class 08, a
     * connection exception by type, or the pool failing to hand out a connection. Agroal reports the last (its
     * acquisition timeout) as a plain SQLException without SQLSTATE, so it is told by where it was thrown.
     */
    public static boolean unavailable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLTransientConnectionException || t instanceof ConnectException
                    || t instanceof org.hibernate.exception.JDBCConnectionException
                    || t instanceof SQLException s && (s.getSQLState() == null ? fromPool(s) : s.getSQLState().startsWith("08"))) {
                return true;
            }
        }
        return false;
    }

    private static boolean fromPool(SQLException e) {
        StackTraceElement[] at = e.getStackTrace();
        return at.length > 0 && at[0].getClassName().startsWith("io.agroal.pool.");
    }

    /** Runs {@code work} in a new transaction; an unreachable Postgres becomes UNAVAILABLE (503). */
    public static <T> T tx(Supplier<T> work) {
        try {
            return QuarkusTransaction.requiringNew().call(work::get);
        } catch (RegistryException e) {
            throw e;
        } catch (RuntimeException e) {
            if (Db.unavailable(e)) {
                throw new RegistryException(UNAVAILABLE, "the adapter registry's database is unavailable; try again shortly", e);
            }
            if (causedBy(e, org.hibernate.exception.ConstraintViolationException.class)) {
                throw new RegistryException(CONFLICT, "a concurrent change to the same name won; try again", e);
            }
            throw e;
        }
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }
}
