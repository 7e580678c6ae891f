#!/usr/bin/env bash
# Builds a TornadoVM SDK (OpenCL backend) for Prism from TornadoVM's source, outside this repository.
#
# Usage: scripts/build-tornadovm.sh [options] SOURCE [SDK]
#   SOURCE  a TornadoVM source tree of tag v5.2.0-jdk25; when the folder does not exist, that tag is
#           cloned into it (git clone --depth 1, from --clone-from)
#   SDK     where the SDK is put (default: tornadovm-5.2.0-jdk25-opencl next to SOURCE); this folder
#           is what TORNADOVM_HOME names
# Options:
#   --clone-from URL   where to clone from (default https://github.com/beehive-lab/TornadoVM.git)
#   --env-file FILE    also write the 'export TORNADOVM_HOME=...' line to FILE (for 'source FILE')
#   --force            rebuild even when the SDK is up to date
#   --no-setup         do not run scripts/setup-machine.sh (cmake, OpenCL, PoCL, Python packages)
#
# It follows TornadoVM's INSTALL_FROM_SOURCE.md (bin/compile --jdk jdk25 --backend opencl), running
# TornadoVM's own build steps under /usr/bin/python3 with three changes for a machine that reaches
# Maven Central and Debian but not GitHub or PyPI:
#   - the OpenCL headers come from Debian's opencl-headers instead of a clone of Khronos' repository;
#   - GraalVM's compiler-management jar, which Maven Central does not carry, is left out (its download
#     leaves an empty file that breaks javac's --upgrade-module-path);
#   - the Python packages come from Debian (TornadoVM would pip-install them); 'streamlit', which the
#     build imports but never uses, is stood in for in the build's own process.
# TornadoVM's Maven build uses its own local repository (SOURCE/.m2-repository), so the user's
# ~/.m2 gets nothing but what scripts/install-tornado-jars.sh puts there.
#
# A second run with nothing changed (same source files, JDK and SDK folder) does nothing but print the
# export line. JAVA_HOME: a JDK 25 (default /usr/lib/jvm/temurin-25-jdk-amd64).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
TAG=v5.2.0-jdk25
START=$SECONDS

die() { echo "build-tornadovm: $*" >&2; exit 2; }
say() { echo "build-tornadovm: $*" >&2; }
took() { local s=$((SECONDS - START)); printf '%d min %02d s' $((s / 60)) $((s % 60)); }

clone_from=https://github.com/beehive-lab/TornadoVM.git
env_file=""
force=0
setup=1
positional=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --clone-from) [[ $# -ge 2 ]] || die "--clone-from needs a URL"; clone_from="$2"; shift 2 ;;
    --env-file)   [[ $# -ge 2 ]] || die "--env-file needs a file"; env_file="$2"; shift 2 ;;
    --force)      force=1; shift ;;
    --no-setup)   setup=0; shift ;;
    -h|--help)    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*)           die "unknown option '$1' (see --help)" ;;
    *)            positional+=("$1"); shift ;;
  esac
done
[[ ${#positional[@]} -ge 1 && ${#positional[@]} -le 2 ]] \
  || die "expected SOURCE [SDK], found ${#positional[@]} arguments (see --help)"

# Every path is resolved through its symbolic links: the SDK's argfile, Maven's ${user.dir} and the
# TORNADOVM_HOME printed at the end must all name the same real folder.
SRC="$(realpath -m "${positional[0]}")"
SDK="$(realpath -m "${positional[1]:-$(dirname "$SRC")/tornadovm-${TAG#v}-opencl}")"
for p in "$SRC" "$SDK"; do
  [[ "$p/" == "$HERE/"* ]] && die "$p is inside Prism's repository $HERE: TornadoVM is built and kept outside it"
done
[[ "$SDK/" == "$SRC/"* ]] && die "SDK $SDK is inside the source tree $SRC: put it next to it instead"

JDK="$(realpath -e "${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}")" || die "JAVA_HOME ${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64} does not exist"
JDK_VERSION="$("$JDK/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p')"
[[ "${JDK_VERSION%%[.+]*}" == 25 ]] || die "JAVA_HOME $JDK is JDK '$JDK_VERSION'; TornadoVM $TAG needs JDK 25 (Temurin 25)"

WANT_VERSION="$(sed -n 's:.*<tornado.version>\(.*\)</tornado.version>.*:\1:p' "$HERE/pom.xml")"

# What the SDK was built from; a different record, or a source file newer than it, means rebuild.
record() {
  printf 'source=%s\nsdk=%s\njdk=%s %s\nbackend=opencl\n' "$SRC" "$SDK" "$JDK" "$JDK_VERSION"
}
STAMP="$SDK/.prism-build"
# Everything TornadoVM's build writes into its source tree, so that a build does not make itself stale.
changed_sources() {
  find "$SRC" \( -name .git -o -name target -o -name dist -o -name graalJars -o -name .m2-repository \
      -o -name __pycache__ -o -path "$SRC/bin/bin" -o -path "$SRC/bin/sdk" -o -name OpenCL-Headers \
      -o -path "$SRC/tornado-drivers/opencl-jni/src/main/cpp/headers" \) -prune \
    -o -type f ! -name setvars.sh ! -path "$SRC/tornado-assembly/src/etc/tornado.backend" \
       -newer "$STAMP" -print -quit
}

finish() {
  local line="export TORNADOVM_HOME=$SDK"
  if [[ -n "$env_file" ]]; then
    mkdir -p "$(dirname "$env_file")"
    printf '# Written by %s\n%s\n' "$HERE/scripts/build-tornadovm.sh" "$line" > "$env_file"
    say "wrote $(realpath -m "$env_file")"
  fi
  say "$1 in $(took)"
  echo "$line"
}

if [[ $setup -eq 1 ]]; then
  "$HERE/scripts/setup-machine.sh" opencl tornadovm >&2
fi

if [[ ! -e "$SRC" ]]; then
  say "cloning TornadoVM $TAG from $clone_from into $SRC"
  git clone -q --depth 1 --branch "$TAG" -c advice.detachedHead=false "$clone_from" "$SRC" \
    || die "could not clone $clone_from (tag $TAG); fetch TornadoVM's source another way and pass its folder as SOURCE"
fi
[[ -f "$SRC/pom.xml" && -f "$SRC/bin/compile" ]] || die "$SRC is not a TornadoVM source tree (no pom.xml and bin/compile)"
SRC_VERSION="$(sed -n '0,/<artifactId>tornado<\/artifactId>/d; s:^ *<version>\(.*\)</version>.*:\1:p' "$SRC/pom.xml" | head -1)"
[[ "$SRC_VERSION" == "$WANT_VERSION" ]] \
  || die "$SRC is TornadoVM '$SRC_VERSION'; Prism's pom.xml wants tornado.version $WANT_VERSION (tag $TAG)"

if [[ $force -eq 0 && -f "$SDK/tornado-argfile" && -f "$STAMP" && "$(cat "$STAMP")" == "$(record)" \
      && -z "$(changed_sources)" ]]; then
  finish "the SDK in $SDK is up to date with $SRC (--force rebuilds it)"
  exit 0
fi

cd "$SRC"
BUILD_EPOCH="$(date +%s)"
say "building TornadoVM $SRC_VERSION (OpenCL backend) in $SRC with $JDK ($JDK_VERSION)"

HEADERS="tornado-drivers/opencl-jni/src/main/cpp/headers/include"
if [[ ! -f "$HEADERS/CL/cl.h" ]]; then
  [[ -f /usr/include/CL/cl.h ]] || die "/usr/include/CL/cl.h is missing: install Debian's opencl-headers (scripts/setup-machine.sh opencl)"
  mkdir -p "$HEADERS"
  cp -r /usr/include/CL "$HEADERS/"
fi

# TornadoVM's helpers run 'python3' by name; the first one on PATH may lack the Debian packages.
SHIMS="$(mktemp -d)"
trap 'rm -rf "$SHIMS"' EXIT
ln -s /usr/bin/python3 "$SHIMS/python3"
DIST_HOME_FILE="$SHIMS/dist-home"

# TornadoVM's bin/compile main(), step by step, with the changes listed at the top.
PATH="$SHIMS:$PATH" JAVA_HOME="$JDK" MAVEN_ARGS="-B -Dmaven.repo.local=$SRC/.m2-repository" \
/usr/bin/python3 - "$DIST_HOME_FILE" <<'PY'
import argparse, importlib.machinery, importlib.util, os, sys, types

sys.path.insert(0, "bin")
sys.modules.setdefault("streamlit", types.ModuleType("streamlit"))
loader = importlib.machinery.SourceFileLoader("tornadovm_compile", "bin/compile")
spec = importlib.util.spec_from_loader(loader.name, loader)
tornado_compile = importlib.util.module_from_spec(spec)
loader.exec_module(tornado_compile)

args = argparse.Namespace(jdk="jdk25", backend="opencl", polyglot=False, mavenSingleThreaded=False,
                          rebuild=False, sdk=False)
graal_jars = tornado_compile.should_handle_graal_jars(args.jdk)
tornado_compile.maven_cleanup()
tornado_compile.pull_graal_jars_if_needed(graal_jars)
if os.path.isdir("graalJars"):
    for name in sorted(os.listdir("graalJars")):
        path = os.path.join("graalJars", name)
        if os.path.getsize(path) == 0:
            print(f"build-tornadovm: leaving out {path}: empty (not on Maven Central)", file=sys.stderr)
            os.remove(path)
profiles = tornado_compile.process_backends_as_mvn_profiles(args.backend)
result = tornado_compile.build_tornadovm(args, profiles)
tornado_compile.post_installation_actions(profiles, result, args, graal_jars)
with open(sys.argv[1], "w") as f:
    f.write(os.environ["TORNADOVM_HOME"])
PY

DIST_HOME="$(cat "$DIST_HOME_FILE")"
[[ -f "$DIST_HOME/tornado-argfile.template" ]] || die "TornadoVM's build left no SDK with a tornado-argfile.template in $DIST_HOME"

# The SDK is copied out of the source tree; its argfile names absolute paths, so it is made again
# from TornadoVM's template for the SDK's own folder.
say "copying the SDK to $SDK"
mkdir -p "$(dirname "$SDK")"
rm -rf "$SDK.partial"
cp -a "$DIST_HOME" "$SDK.partial"
rm -rf "$SDK"
mv "$SDK.partial" "$SDK"
sed "s|\${TORNADOVM_HOME}|$SDK|g" "$SDK/tornado-argfile.template" > "$SDK/tornado-argfile"
if grep -rIl --exclude-dir=share -e "$DIST_HOME" "$SDK" >/dev/null 2>&1; then
  say "warning: these SDK files still name the build folder $DIST_HOME:"
  grep -rIl --exclude-dir=share -e "$DIST_HOME" "$SDK" >&2
fi

record > "$STAMP"
# Dated to the start of the build, so that a source edited during the build counts as newer.
touch -d "@$BUILD_EPOCH" "$STAMP"
finish "built the SDK $SDK"
