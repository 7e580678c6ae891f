#!/usr/bin/env bash
# Installs TornadoVM's API jar from a TornadoVM SDK into the local Maven repository, under its published
# coordinates (io.github.beehive-lab:tornado-api), for the Maven Central mirrors that do not carry it.
# The 'tornado' Maven profile compiles against it; at run time the SDK itself provides TornadoVM.
# Usage: TORNADOVM_HOME=/path/to/sdk scripts/install-tornado-jars.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${TORNADOVM_HOME:?set TORNADOVM_HOME to a TornadoVM SDK (the folder holding tornado-argfile)}"
[[ -d "$TORNADOVM_HOME" ]] || { echo "install-tornado-jars: TORNADOVM_HOME=$TORNADOVM_HOME is not a folder" >&2; exit 2; }
TORNADOVM_HOME="$(cd "$TORNADOVM_HOME" && pwd -P)"
VERSION="$(sed -n 's:.*<tornado.version>\(.*\)</tornado.version>.*:\1:p' "$HERE/pom.xml")"
JAR="$TORNADOVM_HOME/share/java/tornado/tornado-api-$VERSION.jar"
[[ -f "$JAR" ]] || { echo "install-tornado-jars: $JAR not found: is TORNADOVM_HOME a TornadoVM $VERSION SDK?" >&2; exit 2; }
JDK="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
cd "$HERE"
JAVA_HOME="$JDK" ./mvnw -B -q install:install-file -Dfile="$JAR" \
  -DgroupId=io.github.beehive-lab -DartifactId=tornado-api -Dversion="$VERSION" -Dpackaging=jar -DgeneratePom=true
echo "install-tornado-jars: installed io.github.beehive-lab:tornado-api:$VERSION from $JAR"
