#!/bin/sh
# Entry point of both Tessera images: the Quarkus service with the DJL settings bin/tessera uses.
# Java runs as PID 1 (exec), so SIGTERM reaches Quarkus' graceful shutdown directly.
#   TESSERA_TORCH_THREADS   libtorch intra-op threads (default 1; raise for large models on many cores)
#   JAVA_MAX_RAM_PERCENTAGE heap share of the container memory (default 40: weights and KV cache live off-heap)
#   JAVA_OPTS               extra JVM options
set -eu
exec java \
  -Dai.djl.offline=true \
  -DDJL_CACHE_DIR="${DJL_CACHE_DIR}" \
  -Dai.djl.pytorch.num_threads="${TESSERA_TORCH_THREADS:-1}" \
  -Dai.djl.pytorch.num_interop_threads=1 \
  -XX:MaxRAMPercentage="${JAVA_MAX_RAM_PERCENTAGE:-40}" \
  -XX:+ExitOnOutOfMemoryError \
  ${JAVA_OPTS:-} \
  -jar /deployments/quarkus-app/quarkus-run.jar "$@"
