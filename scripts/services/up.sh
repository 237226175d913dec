#!/usr/bin/env bash
# Start the real servers the integration tests run against, from packages only:
#   redis           Debian's redis-server (installed with apt-get when missing)
#   opensearch      OpenSearch 2.19 in a JVM, from Maven Central (services/opensearch)
#   opensearch3     OpenSearch 3.x, same way, on Java 21+ (services/opensearch3)       [optional]
#   elasticsearch9  Elasticsearch 9 integ-test zip from Maven Central, on Java 21+     [optional]
#   elasticsearch8  Elasticsearch 8 integ-test zip from Maven Central                  [optional]
#
# Usage:  eval "$(scripts/services/up.sh)"         # or: scripts/services/up.sh > env.txt
#
# Prints only KEY=value lines on stdout, one per line, as each service becomes ready:
#   REDIS_HOST=127.0.0.1 / REDIS_PORT=…            (redis)
#   ELASTIC_HOST=http://127.0.0.1:…                (opensearch)
#   OPENSEARCH3_HOST=… / ELASTIC9_HOST=… / ELASTIC8_HOST=…
# and writes the lines of every service that is up to $SERVICES_STATE_DIR/env.
# Everything else (progress, errors, log tails) goes to stderr.
#
# Idempotent: a service that is already up (from this state dir) is reused, not restarted.
# Exit status: 0 when every requested service is ready, 1 otherwise (those that did start stay up).
#
# Environment:
#   SERVICES="redis opensearch"   which services to start (default: redis opensearch)
#   SERVICES_STATE_DIR            default ${TMPDIR:-/tmp}/thamesthrive-services
#   SERVICES_TIMEOUT=300          seconds to wait for each server to be ready
#   SERVICES_HEAP=1g              JVM heap of each search server
#   REDIS_APPENDONLY=no           yes: Redis keeps an append-only file (fsync every write) in
#                                 its data dir, so a restart keeps what it acknowledged (the
#                                 chaos suite restarts it); its arguments go to redis/args so
#                                 that it can be started again the same way
#   REDIS_PORT_PREFERRED=6379, OPENSEARCH_PORT_PREFERRED=9200, OPENSEARCH3_PORT_PREFERRED=9201,
#   ELASTICSEARCH9_PORT_PREFERRED=9202, ELASTICSEARCH8_PORT_PREFERRED=9203
#                                 first port tried; the next free one above it is taken otherwise
#   ELASTICSEARCH9_VERSION=9.2.0, ELASTICSEARCH8_VERSION=8.19.21
#   JAVA17_HOME / JAVA21_HOME     JDKs to use (default: found under /usr/lib/jvm and /opt)
#   SERVICES_USER=thamesthrive-svc  account created to run Elasticsearch when run as root
#   MVN="mvn"                     Maven command (always run with -B; add -o to work offline)
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

SERVICES=${SERVICES:-redis opensearch}
SERVICES_TIMEOUT=${SERVICES_TIMEOUT:-300}
SERVICES_HEAP=${SERVICES_HEAP:-1g}
ELASTICSEARCH9_VERSION=${ELASTICSEARCH9_VERSION:-9.2.0}
ELASTICSEARCH8_VERSION=${ELASTICSEARCH8_VERSION:-8.19.21}
MVN=${MVN:-mvn}
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

for s in $SERVICES; do
    case " $SERVICES_ALL " in
        *" $s "*) ;;
        *) die "unknown service '$s' in SERVICES (known: $SERVICES_ALL)" ;;
    esac
done

is_root() { [ "$(id -u)" = 0 ]; }

# ---------------------------------------------------------------- installs

APT_UPDATED=
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "cannot install $*: no apt-get here"
    local sudo=
    if ! is_root; then
        command -v sudo >/dev/null 2>&1 || die "cannot install $*: not root and no sudo"
        sudo="sudo -n"
    fi
    if [ -z "$APT_UPDATED" ]; then
        log "apt-get update"
        $sudo apt-get update -q >&2 || die "apt-get update failed"
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@" >&2 \
        || die "apt-get install $* failed"
}

need_cmd() { # need_cmd COMMAND DEBIAN_PACKAGE
    command -v "$1" >/dev/null 2>&1 || apt_install "$2"
    command -v "$1" >/dev/null 2>&1 || die "$1 still missing after installing $2"
}

# java_major JAVA_BINARY -> prints the feature version (17, 21, 25, …) or nothing
java_major() {
    "$1" -XshowSettings:properties -version 2>&1 |
        sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n1
}

# find_jdk MIN_MAJOR [PREFERRED_HOME…] -> prints a JDK home whose major version >= MIN_MAJOR.
# Looks at the preferred homes first, then JAVA_HOME, then /usr/lib/jvm/* and /opt/*, and
# among those takes the lowest version that fits (the closest to what the server is built for).
find_jdk() {
    local min=$1 best='' best_major=999 d m
    shift
    for d in "$@"; do
        if [ -n "$d" ] && [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ]; then
            m=$(java_major "$d/bin/java")
            if [ -n "$m" ] && [ "$m" -ge "$min" ]; then
                echo "$d"
                return 0
            fi
        fi
    done
    for d in ${JAVA_HOME:-} /usr/lib/jvm/* /opt/* /opt/*/*; do
        [ -d "$d" ] && [ ! -L "$d" ] && [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ] || continue
        m=$(java_major "$d/bin/java")
        if [ -n "$m" ] && [ "$m" -ge "$min" ] && [ "$m" -lt "$best_major" ]; then
            best=$d
            best_major=$m
        fi
    done
    [ -n "$best" ] && echo "$best"
}

JDK17=
jdk17() {
    if [ -z "$JDK17" ]; then
        JDK17=$(find_jdk 17 "${JAVA17_HOME:-}") || true
        if [ -z "$JDK17" ]; then
            apt_install openjdk-17-jdk-headless
            JDK17=$(find_jdk 17) || die "no JDK 17+ found after installing openjdk-17-jdk-headless"
        fi
    fi
    echo "$JDK17"
}

JDK21=
jdk21() {
    if [ -z "$JDK21" ]; then
        JDK21=$(find_jdk 21 "${JAVA21_HOME:-}") || true
        [ -n "$JDK21" ] || return 1
    fi
    echo "$JDK21"
}

# ---------------------------------------------------------------- ports

RESERVED_PORTS=" "
port_free() {
    local p=$1
    case $RESERVED_PORTS in *" $p "*) return 1 ;; esac
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$p" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
    else
        # nothing answers on it (less exact than a bind, but needs nothing)
        ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null
    fi
}

# pick_port PREFERRED: sets PORT to the first free port from PREFERRED up (no subshell, so
# that the ports taken by this run are remembered while their servers are still starting).
pick_port() {
    local p=$1
    while ! port_free "$p"; do
        p=$((p + 1))
        [ "$p" -lt 65535 ] || die "no free port from $1 up"
    done
    RESERVED_PORTS="$RESERVED_PORTS$p "
    PORT=$p
}

# ---------------------------------------------------------------- readiness

redis_ping() { # redis_ping PORT
    local reply
    if command -v redis-cli >/dev/null 2>&1; then
        reply=$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) || return 1
    else
        reply=$( (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'PING\r\n' >&3 && timeout 2 head -n1 <&3) 2>/dev/null) || return 1
    fi
    case $reply in *PONG*) return 0 ;; *) return 1 ;; esac
}

cluster_yellow() { # cluster_yellow PORT
    curl -s --max-time 5 "http://127.0.0.1:$1/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null |
        grep -Eq '"status" *: *"(yellow|green)"'
}

ready() { # ready SERVICE PORT
    case $1 in
        redis) redis_ping "$2" ;;
        *) cluster_yellow "$2" ;;
    esac
}

show_log_tail() { # show_log_tail FILE…
    local f
    for f in "$@"; do
        [ -s "$f" ] || continue
        printf 'services: ---- last lines of %s ----\n' "$f" >&2
        tail -n 40 "$f" | cut -c1-600 >&2
        printf 'services: ----\n' >&2
    done
}

# ---------------------------------------------------------------- Maven

# mvn_run LOGFILE JAVA_HOME ARGS… : runs Maven unattended; on failure shows the log tail.
mvn_run() {
    local logfile=$1 jhome=$2
    shift 2
    command -v "${MVN%% *}" >/dev/null 2>&1 || apt_install maven
    if ! JAVA_HOME=$jhome $MVN -B -ntp "$@" >"$logfile" 2>&1 9>&-; then
        show_log_tail "$logfile"
        return 1
    fi
}

# launcher_classpath PROJECT_DIR JAVA_HOME -> prints the runtime classpath of a launcher project,
# compiling it and resolving its dependencies first when needed (a no-op when up to date).
launcher_classpath() {
    local project=$1 jhome=$2 target cpfile stale='' jar start
    target=$project/target
    cpfile=$target/classpath.txt
    if [ ! -s "$cpfile" ] || [ ! -f "$target/classes/io/thamesthrive/services/OpenSearchLauncher.class" ] ||
        [ "$project/pom.xml" -nt "$cpfile" ] ||
        [ -n "$(find "$SERVICES_SRC_DIR/opensearch/src" -newer "$cpfile" -print -quit 2>/dev/null)" ]; then
        stale=1
    else
        local IFS=:
        for jar in $(cat "$cpfile"); do
            [ -f "$jar" ] || { stale=1; break; }
        done
    fi
    if [ -n "$stale" ]; then
        start=$(date +%s)
        log "building $(basename "$project") with Maven: compile the launcher, resolve the server jars (downloaded the first time)"
        mkdir -p "$target"
        mvn_run "$target/maven.log" "$jhome" -f "$project/pom.xml" \
            compile dependency:build-classpath || return 1
        [ -s "$cpfile" ] || { log "Maven wrote no $cpfile"; return 1; }
        log "$(basename "$project") resolved in $(($(date +%s) - start))s"
    fi
    echo "$target/classes:$(cat "$cpfile")"
}

# es_dist VERSION JAVA_HOME -> prints the unpacked Elasticsearch integ-test distribution directory
es_dist() {
    local version=$1 jhome=$2 dist zipdir start
    dist=$SERVICES_STATE_DIR/dist/elasticsearch-$version
    if [ -x "$dist/bin/elasticsearch" ] && [ -f "$dist/.complete" ]; then
        echo "$dist"
        return 0
    fi
    need_cmd unzip unzip
    start=$(date +%s)
    zipdir=$SERVICES_STATE_DIR/dist/zip-$version
    mkdir -p "$zipdir"
    log "fetching Elasticsearch $version (integ-test zip) with Maven"
    mvn_run "$zipdir/maven.log" "$jhome" "$DEPENDENCY_PLUGIN:copy" \
        "-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:$version:zip" \
        "-DoutputDirectory=$zipdir" -Dmdep.overWriteReleases=true || return 1
    rm -rf "$dist" "$dist.tmp"
    mkdir -p "$dist.tmp"
    unzip -q "$zipdir/elasticsearch-$version.zip" -d "$dist.tmp" || { log "unzip failed"; return 1; }
    mv "$dist.tmp/elasticsearch-$version" "$dist"
    rm -rf "$dist.tmp" "$zipdir"
    chmod -R a+rX "$dist"
    touch "$dist/.complete"
    log "Elasticsearch $version unpacked in $(($(date +%s) - start))s"
    echo "$dist"
}

# ---------------------------------------------------------------- running as root

ensure_service_user() {
    if ! id -u "$SERVICES_USER" >/dev/null 2>&1; then
        log "creating system user $SERVICES_USER (Elasticsearch refuses to run as root)"
        need_cmd useradd passwd
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$SERVICES_USER" || die "useradd $SERVICES_USER failed"
    fi
}

# AS_SERVICE_USER: command prefix that runs a command as $SERVICES_USER when root (environment
# kept), empty otherwise.
AS_SERVICE_USER=()
set_service_user_prefix() {
    if is_root; then
        if command -v setpriv >/dev/null 2>&1; then
            AS_SERVICE_USER=(setpriv --reuid="$SERVICES_USER" --regid="$SERVICES_USER" --init-groups --)
        else
            AS_SERVICE_USER=(runuser -u "$SERVICES_USER" --)
        fi
    fi
}

# ---------------------------------------------------------------- services
# Each start_* function either finds its service up already, or launches it in the background
# and returns; wait_ready then waits for all of them. They write $dir/port, $dir/pid, $dir/env.

declare -A LAUNCHED=() # service -> 1 when it has a process to wait for
declare -A FAILED=()   # service -> reason

svc_dir() { echo "$SERVICES_STATE_DIR/$1"; }

# already_up SERVICE: pid alive and answering on its recorded port -> reuse it.
# A process that is alive but does not answer within a few seconds (a server left half-started
# by an interrupted up.sh, or a dying one) is stopped; the caller then starts a fresh one.
already_up() {
    local dir port i
    dir=$(svc_dir "$1")
    pid_alive "$dir/pid" && [ -s "$dir/port" ] && [ -s "$dir/env" ] || return 1
    port=$(cat "$dir/port")
    for ((i = 0; i < 10; i++)); do
        if ready "$1" "$port"; then
            log "$1 already up on 127.0.0.1:$port (pid $(cat "$dir/pid"))"
            return 0
        fi
        pid_alive "$dir/pid" || return 1
        sleep 0.5
    done
    log "$1 (pid $(cat "$dir/pid")) does not answer on port $port: restarting it"
    return 1
}

# fresh_dir SERVICE: stops a leftover process and gives the service an empty directory.
fresh_dir() {
    local dir
    dir=$(svc_dir "$1")
    stop_pidfile "$dir/pid" "leftover $1" 20
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "$dir"
}

start_redis() {
    local dir port
    already_up redis && return 0
    need_cmd redis-server redis-server
    dir=$(fresh_dir redis)
    pick_port "${REDIS_PORT_PREFERRED:-6379}"
    port=$PORT
    mkdir -p "$dir/data"
    echo "$port" >"$dir/port"
    printf 'REDIS_HOST=127.0.0.1\nREDIS_PORT=%s\n' "$port" >"$dir/env"
    log "starting redis-server on 127.0.0.1:$port"
    # By default no persistence: nothing is saved, and the data dir only holds what redis may
    # write on its own. REDIS_APPENDONLY=yes: an append-only file, fsync'ed on every write.
    local persist=(--appendonly no)
    if [ "${REDIS_APPENDONLY:-no}" = yes ]; then
        persist=(--appendonly yes --appendfsync always)
    fi
    local args=(--bind 127.0.0.1 --port "$port" --protected-mode yes
        --daemonize yes --pidfile "$dir/pid" --logfile "$dir/redis.log" --dir "$dir/data"
        --save '' "${persist[@]}" --loglevel notice)
    printf '%s\n' "${args[@]}" >"$dir/args"
    if ! redis-server "${args[@]}" </dev/null >"$dir/launch.log" 2>&1 9>&-; then
        FAILED[redis]="redis-server did not start"
        show_log_tail "$dir/launch.log" "$dir/redis.log"
        return 0
    fi
    # the pid file appears a moment after daemonizing
    for _ in $(seq 1 50); do [ -s "$dir/pid" ] && break; sleep 0.1; done
    LAUNCHED[redis]=1
}

# start_opensearch SERVICE PROJECT JAVA_HOME PREFERRED_PORT ENV_KEY LOCALE_PROVIDERS
start_opensearch() {
    local svc=$1 project=$2 jhome=$3 preferred=$4 key=$5 locales=$6 dir port cp
    already_up "$svc" && return 0
    if ! cp=$(launcher_classpath "$project" "$jhome"); then
        FAILED[$svc]="Maven could not build $(basename "$project") (log: $project/target/maven.log)"
        return 0
    fi
    dir=$(fresh_dir "$svc")
    pick_port "$preferred"
    port=$PORT
    mkdir -p "$dir/tmp" "$dir/snapshots"
    echo "$port" >"$dir/port"
    printf '%s=http://127.0.0.1:%s\n' "$key" "$port" >"$dir/env"
    log "starting $svc on 127.0.0.1:$port (java: $jhome)"
    # setsid: own session, so the server outlives the shell (make, CI step) that started it;
    # the inner bash writes its own pid and then becomes the JVM (exec), so the pid is the JVM's.
    setsid bash -c 'echo $$ > "$1"; shift; exec "$@"' launcher "$dir/pid" \
        "$jhome/bin/java" -Xms"$SERVICES_HEAP" -Xmx"$SERVICES_HEAP" \
        -XX:+UseG1GC -XX:G1ReservePercent=25 -XX:InitiatingHeapOccupancyPercent=30 \
        -XX:+ExitOnOutOfMemoryError -Xss1m \
        -Djava.awt.headless=true -Dfile.encoding=UTF-8 -Djna.nosys=true \
        -XX:-OmitStackTraceInFastThrow \
        -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true \
        -Dio.netty.recycler.maxCapacityPerThread=0 \
        -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true -Dlog4j2.formatMsgNoLookups=true \
        -Djava.locale.providers="$locales" \
        -Djava.io.tmpdir="$dir/tmp" \
        -Dthamesthrive.http.port="$port" -Dthamesthrive.base.path="$dir/home" \
        -Dthamesthrive.cluster.name="thamesthrive-test-$svc" \
        -Dthamesthrive.setting.path.repo="$dir/snapshots" \
        -cp "$cp" io.thamesthrive.services.OpenSearchLauncher \
        </dev/null >"$dir/server.log" 2>&1 9>&- &
    for _ in $(seq 1 50); do [ -s "$dir/pid" ] && break; sleep 0.1; done
    LAUNCHED[$svc]=1
}

# start_elasticsearch SERVICE VERSION JAVA_HOME PREFERRED_PORT ENV_KEY
start_elasticsearch() {
    local svc=$1 version=$2 jhome=$3 preferred=$4 key=$5 dir port dist
    already_up "$svc" && return 0
    if ! dist=$(es_dist "$version" "$jhome"); then
        FAILED[$svc]="could not fetch or unpack Elasticsearch $version from Maven Central"
        return 0
    fi
    if is_root; then
        ensure_service_user
        set_service_user_prefix
    fi
    dir=$(fresh_dir "$svc")
    pick_port "$preferred"
    port=$PORT
    mkdir -p "$dir/config" "$dir/data" "$dir/logs" "$dir/tmp"
    cp -R "$dist/config/." "$dir/config/"
    cat >"$dir/config/elasticsearch.yml" <<EOF
cluster.name: thamesthrive-test-$svc
node.name: thamesthrive-test-node
path.data: $dir/data
path.logs: $dir/logs
network.host: 127.0.0.1
http.port: $port
discovery.type: single-node
xpack.security.enabled: false
cluster.routing.allocation.disk.threshold_enabled: false
EOF
    mkdir -p "$dir/config/jvm.options.d"
    printf -- '-Xms%s\n-Xmx%s\n' "$SERVICES_HEAP" "$SERVICES_HEAP" >"$dir/config/jvm.options.d/heap.options"
    echo "$port" >"$dir/port"
    printf '%s=http://127.0.0.1:%s\n' "$key" "$port" >"$dir/env"
    if is_root; then
        chown -R "$SERVICES_USER:" "$dir"
        "${AS_SERVICE_USER[@]}" test -r "$dist/bin/elasticsearch" -a -w "$dir/data" || {
            FAILED[$svc]="user $SERVICES_USER cannot reach $dist or $dir: the state dir's parents must be world-traversable"
            return 0
        }
    fi
    log "starting $svc (Elasticsearch $version) on 127.0.0.1:$port as $(is_root && echo "$SERVICES_USER" || id -un) (java: $jhome)"
    # -d: the launcher daemonizes the server JVM and writes its pid to $dir/pid, but only returns
    # once the node has started; so it runs in the background (its own session, like the other
    # servers) and wait_ready watches $dir/launching (removed when it returns) and $dir/launch.rc.
    touch "$dir/launching"
    (cd "$dir" && ES_JAVA_HOME=$jhome ES_PATH_CONF=$dir/config ES_TMPDIR=$dir/tmp ES_JAVA_OPTS='' \
        setsid bash -c '
            dir=$1; shift
            rc=0; "$@" || rc=$?
            echo "$rc" > "$dir/launch.rc"; rm -f "$dir/launching"' launcher "$dir" \
        "${AS_SERVICE_USER[@]}" "$dist/bin/elasticsearch" -d -p "$dir/pid" \
        </dev/null >"$dir/launch.log" 2>&1 9>&- &)
    LAUNCHED[$svc]=1
}

# wait_ready SERVICE: waits until the service answers, prints its env lines on stdout.
wait_ready() {
    local svc=$1 dir port deadline
    dir=$(svc_dir "$svc")
    port=$(cat "$dir/port")
    deadline=$(($(date +%s) + SERVICES_TIMEOUT))
    while ! ready "$svc" "$port"; do
        if ! pid_alive "$dir/pid" && [ ! -e "$dir/launching" ]; then
            FAILED[$svc]="process exited before it was ready"
            if [ -f "$dir/launch.rc" ]; then
                FAILED[$svc]+=" (bin/elasticsearch exit status $(cat "$dir/launch.rc"))"
            fi
            break
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            FAILED[$svc]="not ready within ${SERVICES_TIMEOUT}s"
            break
        fi
        sleep 0.5
    done
    if [ -n "${FAILED[$svc]:-}" ]; then
        log "$svc on port $port failed: ${FAILED[$svc]}"
        show_log_tail "$dir/launch.log" "$dir/redis.log" "$dir/server.log" "$dir/logs/thamesthrive-test-$svc.log"
        stop_pidfile "$dir/pid" "$svc" 20
        rm -f "$dir/pid" "$dir/env"
        return 0
    fi
    log "$svc ready on 127.0.0.1:$port after $(($(date +%s) - T1))s"
}

# ---------------------------------------------------------------- main

want() { case " $SERVICES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

T0=$(date +%s)
take_lock
need_cmd curl curl
# look the JDKs up once, in this shell (the start_* calls use them in command substitutions)
if want opensearch || want elasticsearch8; then JDK17=$(jdk17); fi
if want opensearch3 || want elasticsearch9; then JDK21=$(jdk21) || true; fi

# One at a time: on 2 CPUs, JVMs started together take longer in all than one after the other
# (measured: 4 search servers in parallel 80s, one by one about 50s).
for s in $SERVICES_ALL; do
    want "$s" || continue
    T1=$(date +%s)
    case $s in
        redis) start_redis ;;
        opensearch)
            start_opensearch opensearch "$SERVICES_SRC_DIR/opensearch" "$(jdk17)" \
                "${OPENSEARCH_PORT_PREFERRED:-9200}" ELASTIC_HOST SPI,COMPAT
            ;;
        opensearch3)
            if j21=$(jdk21); then
                start_opensearch opensearch3 "$SERVICES_SRC_DIR/opensearch3" "$j21" \
                    "${OPENSEARCH3_PORT_PREFERRED:-9201}" OPENSEARCH3_HOST SPI,CLDR
            else
                FAILED[opensearch3]="no JDK 21 or newer found (set JAVA21_HOME)"
            fi
            ;;
        elasticsearch9)
            if j21=$(jdk21); then
                start_elasticsearch elasticsearch9 "$ELASTICSEARCH9_VERSION" "$j21" \
                    "${ELASTICSEARCH9_PORT_PREFERRED:-9202}" ELASTIC9_HOST
            else
                FAILED[elasticsearch9]="no JDK 21 or newer found (set JAVA21_HOME)"
            fi
            ;;
        elasticsearch8)
            start_elasticsearch elasticsearch8 "$ELASTICSEARCH8_VERSION" "$(jdk17)" \
                "${ELASTICSEARCH8_PORT_PREFERRED:-9203}" ELASTIC8_HOST
            ;;
    esac
    if [ -z "${FAILED[$s]:-}" ] && [ -n "${LAUNCHED[$s]:-}" ]; then
        wait_ready "$s"
    fi
    if [ -z "${FAILED[$s]:-}" ]; then
        cat "$(svc_dir "$s")/env"
    fi
done

write_env_file
log "state: $SERVICES_STATE_DIR/env ($(($(date +%s) - T0))s in all)"

if [ "${#FAILED[@]}" -gt 0 ]; then
    for s in "${!FAILED[@]}"; do log "FAILED: $s: ${FAILED[$s]}"; done
    exit 1
fi
