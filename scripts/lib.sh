# Shared set-up steps for scripts/run and scripts/test (sourced, not run).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${JAMJAR_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

log() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

# Install the Debian/Ubuntu packages that are missing (only as root with apt-get).
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        log "please install: ${missing[*]} (not root or no apt-get: skipping)"
        return 0
    fi
    log "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

RUNTIME_PACKAGES=(python3-venv python3-dev gcc pkg-config libmariadb-dev ffmpeg libportaudio2)
TEST_PACKAGES=(pulseaudio pulseaudio-utils libasound2-plugins chromium nodejs espeak-ng)

# Create .venv if needed and install a lock file (requirements.txt to run, requirements-dev.txt
# for the tests and the linter), checking every package against the lock's hashes.
make_venv() {
    local lock="$ROOT/${1:-requirements.txt}"
    if [ ! -x "$PY" ]; then
        log "creating virtualenv in $VENV"
        python3 -m venv "$VENV"
    fi
    local stamp="$VENV/.$(basename "$lock").sha1"
    local want
    want="$(sha1sum "$lock" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        log "installing Python packages from $(basename "$lock")"
        "$PY" -m pip install -q --require-hashes -r "$lock"
        echo "$want" > "$stamp"
    fi
}

wait_for_port() {  # host port seconds
    local deadline=$((SECONDS + $3))
    until (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.5
    done
}

ensure_mariadb() {
    if wait_for_port 127.0.0.1 3306 1; then return 0; fi
    log "starting MariaDB"
    if [ -x /usr/sbin/mariadbd ]; then
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    else
        apt_install mariadb-server
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    fi
    wait_for_port 127.0.0.1 3306 60 || { log "MariaDB did not start"; return 1; }
}

ensure_redis() {
    if wait_for_port 127.0.0.1 6379 1; then return 0; fi
    log "starting Redis"
    command -v redis-server >/dev/null || apt_install redis-server
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for_port 127.0.0.1 6379 30 || { log "Redis did not start"; return 1; }
}

# Write .env (read by jamjar_site/settings.py) unless one exists: a generated SECRET_KEY, DEBUG
# and the SQLite database, so that manage.py works in any shell afterwards.
write_env_file() {
    local file="$ROOT/.env"
    if [ -e "$file" ]; then
        log "keeping the existing $file"
        return 0
    fi
    local key
    key="$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
    (
        umask 077
        printf '%s\n' \
            "# Written by scripts/run; read by jamjar_site/settings.py. Variables in the environment win." \
            "SECRET_KEY=$key" \
            "DEBUG=1" \
            "DATABASE_URL=sqlite:///$ROOT/db.sqlite3" > "$file"
    )
    log "wrote $file (SECRET_KEY, DEBUG=1, DATABASE_URL)"
}
