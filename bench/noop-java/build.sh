#!/usr/bin/env bash
# Builds the jnr-fuse no-op filesystem into OUT (default bench/build/noop-java):
# OUT/classes plus OUT/lib/*.jar, and OUT/run (the launcher: run MOUNTPOINT [FUSE-OPTS...]).
# javac against the jars directly (no Maven module); Maven only fetches the jars once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../build/noop-java}
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mkdir -p "$out/lib" "$out/classes"
if ! ls "$out"/lib/jnr-fuse-*.jar >/dev/null 2>&1; then
  JAVA_HOME=$JAVA_HOME mvn -B -q -ntp -f "$here/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$out/lib" -Dmdep.useRepositoryLayout=false
fi
src=$(find "$here/src" -name '*.java')
newest_src=$(ls -t $src | head -1)
if [ ! -f "$out/classes/dev/pmemfs/bench/NoopFs.class" ] || [ "$newest_src" -nt "$out/classes/dev/pmemfs/bench/NoopFs.class" ]; then
  "$JAVA_HOME/bin/javac" --release 25 -nowarn -cp "$out/lib/*" -d "$out/classes" $src
fi
cat > "$out/run" <<RUN
#!/usr/bin/env bash
# jnr-ffi needs native access; jffi/jnr-ffi still use sun.misc.Unsafe memory access.
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \\
  -Xss1m -XX:+UseParallelGC -Xms256m -Xmx256m \\
  \${NOOP_JAVA_OPTS:-} -cp "$out/classes:$out/lib/*" dev.pmemfs.bench.NoopFs "\$@"
RUN
chmod +x "$out/run"
