#!/usr/bin/env bash
# Builds a plain Debian package of Portico from a built jar: dist/build-deb.sh [JAR] [OUT_DIR]
#   JAR      default target/portico.jar (mvn -B -DskipTests package)
#   OUT_DIR  default target/
# Installs: /usr/share/portico/portico.jar, /usr/share/portico/bin/portico, /etc/portico/portico.yaml (a conffile),
# /lib/systemd/system/portico.service, and a system user "portico". Needs dpkg-deb (and fakeroot when not root).
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
jar=${1:-$root/target/portico.jar}
out=${2:-$root/target}
[[ -r $jar ]] || { echo "build-deb: $jar not found; build it with: mvn -B -DskipTests package" >&2; exit 2; }
version=$(sed -n 's|^  <version>\(.*\)</version>|\1|p' "$root/pom.xml" | head -1)
version=${version/-SNAPSHOT/~snapshot}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -d "$stage/DEBIAN" "$stage/usr/share/portico/bin" "$stage/etc/portico" "$stage/lib/systemd/system" \
    "$stage/usr/share/doc/portico"
install -m 0644 "$jar" "$stage/usr/share/portico/portico.jar"
install -m 0755 "$root/bin/portico" "$stage/usr/share/portico/bin/portico"
install -m 0640 "$root/dist/portico.yaml" "$stage/etc/portico/portico.yaml"
install -m 0644 "$root/dist/portico.service" "$stage/lib/systemd/system/portico.service"
install -m 0644 "$root/README.md" "$stage/usr/share/doc/portico/README.md"

cat > "$stage/DEBIAN/control" <<CONTROL
Package: portico
Version: $version
Section: net
Priority: optional
Architecture: amd64
Depends: openjdk-17-jre-headless | java17-runtime-headless, bash
Maintainer: Portico <portico@localhost>
Description: HTTP reverse proxy on Netty
 Portico proxies HTTP/1.1 and HTTP/2 to backends with load balancing, health
 checks, TLS, per-route policies, hot reload and an admin endpoint with a live
 dashboard.
CONTROL
echo /etc/portico/portico.yaml > "$stage/DEBIAN/conffiles"
cat > "$stage/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    getent group portico >/dev/null || groupadd --system portico
    getent passwd portico >/dev/null || useradd --system --gid portico --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin portico
    chgrp portico /etc/portico/portico.yaml
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload || true
    fi
fi
POSTINST
cat > "$stage/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
POSTRM
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/postrm"

mkdir -p "$out"
deb="$out/portico_${version}_amd64.deb"
if [[ $(id -u) == 0 ]]; then
    dpkg-deb -Zgzip --root-owner-group --build "$stage" "$deb" >/dev/null
else
    fakeroot dpkg-deb -Zgzip --build "$stage" "$deb" >/dev/null
fi
echo "$deb"
