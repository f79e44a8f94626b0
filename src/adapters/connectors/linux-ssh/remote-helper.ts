/**
 * `gatehouse-account`: the one program Gatehouse's automation account may run with sudo on a server
 * (`<automation> ALL=(root) NOPASSWD: /usr/local/sbin/gatehouse-account`). It is installed once per
 * server, root-owned, mode 0755, from this text (`gatehouse linux helper` prints it). Whoever holds
 * the automation key can therefore only create, change, list and remove `gh_` accounts, their sudoers
 * drop-ins and the managed sshd drop-in, and read or replace the host firewall table
 * `inet gatehouse` (`nft` subcommand, decision 0014) — not run arbitrary commands as root.
 *
 * Every argument is checked again here against the same grammars as in `linux-config.ts`; the
 * password and public key arrive on stdin, never on a command line (where `ps` would show them).
 * Exit status 2 means "refused: the input can never work", anything else non-zero a failure worth
 * retrying.
 */

export const HELPER_VERSION = '1';

export const SUDOERS_DROPIN_PREFIX = '/etc/sudoers.d/gatehouse-';
export const SSHD_DROPIN = '/etc/ssh/sshd_config.d/gatehouse.conf';
export const NO_TRANSFER_WRAPPER = '/usr/local/lib/gatehouse/no-file-transfer';

// The bash itself never uses `${…}`: the only substitutions are the TypeScript constants above.
export const REMOTE_HELPER = String.raw`#!/bin/bash
# gatehouse-account — managed by Gatehouse; do not edit. Acts only on gh_ accounts.
set -euo pipefail
umask 077
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH LC_ALL=C
VERSION=${HELPER_VERSION}
USER_RE='^gh_[a-z0-9_]{1,29}$'
PREFIX_RE='^gh_[a-z0-9_]{0,29}$'
DATE_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
CMD_RE='^/[A-Za-z0-9_./-]{1,200}( [A-Za-z0-9_./=:+-]{1,100}){0,10}$'
KEY_RE='^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]{16,8192}={0,2}( [A-Za-z0-9_.@+-]{1,100})?$'
CIDR_RE='^[0-9a-fA-F:.]{2,45}/[0-9]{1,3}$'
GROUP=gatehouse
SFTP_GROUP=gatehouse-sftp
SUDOERS_PREFIX=${SUDOERS_DROPIN_PREFIX}
SSHD_DROPIN=${SSHD_DROPIN}
WRAPPER=${NO_TRANSFER_WRAPPER}
ARCHIVE_DIR=/var/lib/gatehouse/archive
NFT_MAX_BYTES=8388608
# A firewall document (one JSON value, read with jq -s) may only add or delete table inet gatehouse
# and add its sets, chains and rules.
NFT_OURS='length == 1 and (.[0] | (.nftables | type == "array") and all(.nftables[];
  type == "object" and length == 1 and (to_entries[0] |
    (.key == "add" or .key == "delete") and (.value | type == "object" and length == 1 and (to_entries[0] |
      (.key == "table" and (.value | type == "object" and .family == "inet" and .name == "gatehouse"
        and ((keys - ["family", "name", "handle"]) | length == 0)))
      or ((.key == "set" or .key == "chain" or .key == "rule") and (.value | type == "object"
        and .family == "inet" and .table == "gatehouse")))))))'

refuse() { echo "gatehouse-account: $*" >&2; exit 2; }
die() { echo "gatehouse-account: $*" >&2; exit 1; }
need_user() { [[ "$1" =~ $USER_RE ]] || refuse "not a Gatehouse account name"; }
exists() { getent passwd "$1" >/dev/null; }
home_of() { getent passwd "$1" | cut -d: -f6; }

reload_sshd() {
  if [ -d /run/systemd/system ] && systemctl is-active --quiet ssh 2>/dev/null; then
    systemctl reload ssh
    return
  fi
  local pidfile
  pidfile=$(sshd -T -C user=root,host=localhost,addr=127.0.0.1 2>/dev/null | awk '$1 == "pidfile" { print $2 }')
  [ -n "$pidfile" ] && [ -s "$pidfile" ] || die "cannot find sshd to reload (no pid in $pidfile)"
  kill -HUP "$(cat "$pidfile")"
}

cmd_create() {
  [ $# -ge 4 ] || refuse "usage: create USER EXPIRY-DAY LEVEL TRANSFER [SUDO-COMMAND...]"
  local user=$1 expiry=$2 level=$3 transfer=$4
  shift 4
  need_user "$user"
  [[ "$expiry" =~ $DATE_RE ]] || refuse "expiry must be YYYY-MM-DD"
  case "$level" in read-only|operator|admin) ;; *) refuse "level must be read-only, operator or admin" ;; esac
  case "$transfer" in yes|no) ;; *) refuse "transfer must be yes or no" ;; esac
  local cmd
  for cmd in "$@"; do [[ "$cmd" =~ $CMD_RE ]] || refuse "not an allowed sudo command"; done
  local password='' key=''
  IFS= read -r password || true
  IFS= read -r key || true
  [ -n "$password" ] || refuse "no password on stdin"
  if [ -n "$key" ] && ! [[ "$key" =~ $KEY_RE ]]; then refuse "not an SSH public key"; fi

  groupadd -f "$GROUP"
  groupadd -f "$SFTP_GROUP"
  local groups=$GROUP
  [ "$transfer" = yes ] && groups="$GROUP,$SFTP_GROUP"
  local outcome=updated
  if exists "$user"; then
    usermod -e "$expiry" -G "$groups" "$user"
  else
    useradd -m -s /bin/bash -e "$expiry" -G "$groups" -c "Gatehouse temporary account" "$user"
    outcome=created
  fi
  printf '%s:%s\n' "$user" "$password" | chpasswd

  # written as the user, so nothing the account planted in its home can redirect a root write
  if [ -n "$key" ]; then
    printf '%s\n' "$key" | runuser -u "$user" -- sh -c 'umask 077; mkdir -p "$HOME/.ssh" && cat > "$HOME/.ssh/authorized_keys"'
  else
    runuser -u "$user" -- sh -c 'rm -f "$HOME/.ssh/authorized_keys"'
  fi

  local dropin="$SUDOERS_PREFIX$user" tmp
  if [ "$level" = read-only ] || { [ "$level" = operator ] && [ $# -eq 0 ]; }; then
    rm -f "$dropin"
  else
    # a name with a dot: sudo ignores the file until it is renamed into place
    tmp=$(mktemp /etc/sudoers.d/.gatehouse-XXXXXX)
    if [ "$level" = admin ]; then
      printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\n' "$user" > "$tmp"
    else
      local line="$user ALL=(root) NOPASSWD: " sep=''
      for cmd in "$@"; do line="$line$sep$cmd"; sep=', '; done
      printf '%s\n' "$line" > "$tmp"
    fi
    chmod 0440 "$tmp"
    if ! visudo -cqf "$tmp" >/dev/null; then rm -f "$tmp"; die "the sudoers drop-in for $user did not validate"; fi
    mv -f "$tmp" "$dropin"
  fi
  exists "$user" || die "$user was not created"
  echo "$outcome"
}

write_wrapper() {
  install -d -m 0755 "$(dirname "$WRAPPER")"
  local tmp
  tmp=$(mktemp "$WRAPPER.XXXXXX")
  cat > "$tmp" <<'WRAPPER_EOF'
#!/bin/sh
# Managed by Gatehouse: the ForceCommand of gh_ accounts without a file-transfer grant.
case "$SSH_ORIGINAL_COMMAND" in
  *sftp-server*|*internal-sftp*|sftp|scp|scp\ *|*/scp\ *|rsync\ *|*/rsync\ *)
    echo "file transfer was not granted to this account" >&2
    exit 1 ;;
esac
if [ -n "$SSH_ORIGINAL_COMMAND" ]; then exec /bin/bash -c "$SSH_ORIGINAL_COMMAND"; fi
exec /bin/bash -l
WRAPPER_EOF
  chmod 0755 "$tmp"
  mv -f "$tmp" "$WRAPPER"
}

cmd_sshd_policy() {
  [ $# -ge 1 ] || refuse "usage: sshd-policy JUMPBOX-CIDR..."
  local c addresses='*'
  for c in "$@"; do
    [[ "$c" =~ $CIDR_RE ]] || refuse "not a CIDR"
    addresses="$addresses,!$c"
  done
  write_wrapper
  local tmp
  tmp=$(mktemp "$SSHD_DROPIN.XXXXXX")
  cat > "$tmp" <<EOF
# Managed by Gatehouse (gatehouse-account); rewritten on every grant. Do not edit.
# Gatehouse accounts log in only from the jumpboxes: from anywhere else they are denied.
Match User gh_* Address $addresses
	DenyUsers *
# Without a file-transfer grant (group $SFTP_GROUP): no SFTP/SCP, no forwarding.
Match User gh_* Group *,!$SFTP_GROUP
	ForceCommand $WRAPPER
	DisableForwarding yes
Match User gh_*
	DisableForwarding yes
EOF
  chmod 0644 "$tmp"
  if [ -f "$SSHD_DROPIN" ] && cmp -s "$tmp" "$SSHD_DROPIN"; then rm -f "$tmp"; echo unchanged; return; fi
  local backup=''
  if [ -f "$SSHD_DROPIN" ]; then backup=$(mktemp "$SSHD_DROPIN.old.XXXXXX"); cp -p "$SSHD_DROPIN" "$backup"; fi
  mv -f "$tmp" "$SSHD_DROPIN"
  if ! sshd -t >/dev/null 2>&1; then
    if [ -n "$backup" ]; then mv -f "$backup" "$SSHD_DROPIN"; else rm -f "$SSHD_DROPIN"; fi
    die "sshd refused the new configuration; the previous one is kept"
  fi
  [ -z "$backup" ] || rm -f "$backup"
  reload_sshd
  echo written
}

cmd_revoke() {
  [ $# -eq 2 ] || refuse "usage: revoke USER archive|delete"
  local user=$1 home_policy=$2
  need_user "$user"
  case "$home_policy" in archive|delete) ;; *) refuse "home policy must be archive or delete" ;; esac
  local existed=no
  if exists "$user"; then
    existed=yes
    usermod -L -e 1 "$user" >/dev/null 2>&1 || true
    local i
    for i in $(seq 1 100); do
      pkill -KILL -u "$user" 2>/dev/null || true
      if command -v loginctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        loginctl terminate-user "$user" >/dev/null 2>&1 || true
      fi
      pgrep -u "$user" >/dev/null 2>&1 || break
      sleep 0.1
    done
    if pgrep -u "$user" >/dev/null 2>&1; then die "processes of $user survived"; fi
  fi
  # a drop-in left without its account counts as something revoked (the sweeper reports it)
  if [ -e "$SUDOERS_PREFIX$user" ]; then existed=yes; fi
  rm -f "$SUDOERS_PREFIX$user"
  if exists "$user"; then
    local home
    home=$(home_of "$user")
    if [ "$home_policy" = archive ] && [ -d "$home" ]; then
      mkdir -p "$ARCHIVE_DIR"
      chmod 0700 "$ARCHIVE_DIR"
      tar -C "$(dirname "$home")" -czf "$ARCHIVE_DIR/$user-$(date -u +%Y%m%dT%H%M%SZ).tar.gz" "$(basename "$home")"
    fi
    userdel -r "$user" >/dev/null 2>&1 || userdel "$user" >/dev/null 2>&1 || true
    if [ "$home" = "/home/$user" ] && [ -d "$home" ]; then rm -rf --one-file-system "$home"; fi
  fi
  if exists "$user"; then die "$user still exists after userdel"; fi
  [ ! -e "$SUDOERS_PREFIX$user" ] || die "the sudoers drop-in of $user is still there"
  echo "$existed"
}

cmd_expire() {
  [ $# -eq 2 ] || refuse "usage: expire USER EXPIRY-DAY"
  need_user "$1"
  [[ "$2" =~ $DATE_RE ]] || refuse "expiry must be YYYY-MM-DD"
  if exists "$1"; then usermod -e "$2" "$1"; echo moved; else echo absent; fi
}

cmd_exists() {
  [ $# -eq 1 ] || refuse "usage: exists USER"
  need_user "$1"
  if exists "$1"; then echo yes; else echo no; fi
}

# One line per managed account ("account NAME EXPIRY-DAYS") and per drop-in left without its account
# ("dropin NAME").
cmd_list() {
  [ $# -eq 1 ] || refuse "usage: list PREFIX"
  [[ "$1" =~ $PREFIX_RE ]] || refuse "prefix must start with gh_"
  local prefix=$1 name rest expiry f
  while IFS=: read -r name rest; do
    case "$name" in
      "$prefix"*)
        [[ "$name" =~ $USER_RE ]] || continue
        expiry=$(getent shadow "$name" | cut -d: -f8)
        echo "account $name $expiry" ;;
    esac
  done < <(getent passwd)
  for f in "$SUDOERS_PREFIX$prefix"*; do
    [ -e "$f" ] || continue
    name=$(basename "$f")
    name=$(printf '%s' "$name" | sed 's/^gatehouse-//')
    [[ "$name" =~ $USER_RE ]] || continue
    exists "$name" || echo "dropin $name"
  done
}

# The host firewall layer: only table inet gatehouse is read or replaced. The document arrives on
# stdin, is checked with jq to touch nothing else, and is handed to nft as a root-owned file (nft
# cannot read -f - from the socket an ssh session gives).
cmd_nft() {
  [ $# -eq 1 ] || refuse "usage: nft list-table|list-ruleset|check|apply"
  case "$1" in
    list-table) exec nft -j list table inet gatehouse ;;
    list-ruleset) exec nft -j list ruleset ;;
    check|apply) ;;
    *) refuse "usage: nft list-table|list-ruleset|check|apply" ;;
  esac
  command -v jq >/dev/null 2>&1 || die "jq is needed to check a firewall document (install the jq package)"
  NFT_DOC=$(mktemp /tmp/gatehouse-nft.XXXXXX)
  trap 'rm -f "$NFT_DOC"' EXIT
  head -c "$((NFT_MAX_BYTES + 1))" > "$NFT_DOC"
  [ "$(stat -c %s "$NFT_DOC")" -le "$NFT_MAX_BYTES" ] || refuse "the firewall document is larger than 8 MiB"
  jq -e -s "$NFT_OURS" "$NFT_DOC" >/dev/null 2>&1 || refuse "the firewall document touches more than table inet gatehouse"
  if [ "$1" = check ]; then nft -c -j -f "$NFT_DOC"; else nft -j -f "$NFT_DOC"; fi
}

[ $# -ge 1 ] || refuse "usage: gatehouse-account version|create|sshd-policy|revoke|expire|exists|list|nft ..."
sub=$1
shift
case "$sub" in
  version) echo "$VERSION" ;;
  create) cmd_create "$@" ;;
  sshd-policy) cmd_sshd_policy "$@" ;;
  revoke) cmd_revoke "$@" ;;
  expire) cmd_expire "$@" ;;
  exists) cmd_exists "$@" ;;
  list) cmd_list "$@" ;;
  nft) cmd_nft "$@" ;;
  *) refuse "unknown subcommand" ;;
esac
`;
