# Shell helpers shared by the scripts that need Debian packages
# (tests/cortex-m/run.sh, core/capi/run.sh). Source it after defining `log`.

# Installs those of the given Debian packages that are not installed yet
# (apt-get update first; sudo when not root), and says how long it took.
ensure_debian_packages() {
    local missing=() p s sudo=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ "${#missing[@]}" -gt 0 ] || return 0
    log "installing ${missing[*]}"
    s=$SECONDS
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
    log "packages installed in $((SECONDS - s)) s"
}
