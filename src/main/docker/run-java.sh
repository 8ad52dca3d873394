#!/bin/sh
# Entry point of both Tessera images: the Quarkus service with the DJL settings bin/tessera uses.
# Java runs as PID 1 (exec), so SIGTERM reaches Quarkus' graceful shutdown directly. libtorch's threads are
# the service's setting (tessera.engine.threads, default: the container's cores but one), so none is forced here.
#   JAVA_MAX_RAM_PERCENTAGE heap share of the container memory (default 40: weights and KV cache live off-heap)
#   JAVA_OPTS               extra JVM options
#   APP_DIR                 the Quarkus fast-jar directory (default /deployments/quarkus-app; RollingRestartIT
#                           points it at target/quarkus-app to run this very script)
set -eu
exec java \
  -Djava.util.logging.manager=org.jboss.logmanager.LogManager \
  -Dai.djl.offline=true \
  -DDJL_CACHE_DIR="${DJL_CACHE_DIR}" \
  -Xss4m \
  -XX:MaxRAMPercentage="${JAVA_MAX_RAM_PERCENTAGE:-40}" \
  -XX:+ExitOnOutOfMemoryError \
  ${JAVA_OPTS:-} \
  -jar "${APP_DIR:-/deployments/quarkus-app}/quarkus-run.jar" "$@"
