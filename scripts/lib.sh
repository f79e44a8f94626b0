# Shared set-up for scripts/run.sh and scripts/test.sh: everything a fresh machine of this kind needs.
# Sourced, not run. Idempotent: each step checks before it acts.

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

ensure_node() {
  command -v node >/dev/null || die "Node.js 20.19 or newer is required (https://nodejs.org)"
  local major minor
  IFS=. read -r major minor _ <<<"$(node -p 'process.versions.node')"
  if (( major < 20 || (major == 20 && minor < 19) )); then
    die "Node.js 20.19 or newer is required; this is $(node --version)"
  fi
}

# Debian packages the tests and the demo use. Installed only when missing.
DEBIAN_PACKAGES=(postgresql-client mariadb-client-core iproute2 openscap-scanner ssg-debian openssh-server openssh-client sudo sshpass openssl nftables rsyslog jq chromium)

ensure_packages() {
  local missing=() pkg
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null || die "missing Debian packages: ${missing[*]} (and no apt-get to install them)"
  say "installing ${missing[*]}"
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

wait_for_port() { # host port seconds
  local deadline=$((SECONDS + $3))
  until (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

ensure_postgres() {
  if wait_for_port 127.0.0.1 5432 1; then return 0; fi
  say "starting PostgreSQL"
  command -v pg_ctlcluster >/dev/null || die "PostgreSQL is not installed and not reachable at 127.0.0.1:5432"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  wait_for_port 127.0.0.1 5432 30 || die "PostgreSQL did not come up on 127.0.0.1:5432"
}

ensure_mariadb() {
  if wait_for_port 127.0.0.1 3306 1; then return 0; fi
  say "starting MariaDB"
  [[ -x /usr/sbin/mariadbd ]] || die "MariaDB is not installed and not reachable at 127.0.0.1:3306"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for_port 127.0.0.1 3306 30 || die "MariaDB did not come up on 127.0.0.1:3306"
}

ensure_npm_packages() {
  if [[ -d node_modules && node_modules/.package-lock.json -nt package-lock.json ]]; then return 0; fi
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
}

build() {
  say "building (server and web back-office)"
  npm run --silent build
}
