#!/usr/bin/env bash
# One entry point for the README's two commands:
#   ./dev.sh example   set up .venv and run scrm-xl on the bundled example workbook
#   ./dev.sh test      set up .venv (and the system packages tests need) and run the suite
set -euo pipefail
cd "$(dirname "$0")"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

apt_updated=""
apt_install() {
    echo "dev.sh: installing system packages: $*" >&2
    if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_python() {
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then apt_install python3-venv; fi
    if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
    # weasyprint needs Pango at run time
    if ! .venv/bin/python -c 'import weasyprint' 2>/dev/null; then
        apt_install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
    fi
}

ensure_test_tools() {
    local missing=()
    command -v soffice >/dev/null || command -v libreoffice >/dev/null || missing+=(libreoffice-calc-nogui)
    command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null || missing+=(poppler-utils)
    fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)
    # without HarfBuzz-Subset WeasyPrint warns on every PDF, and the briefing tests fail on any warning
    ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || missing+=(libharfbuzz-subset0)
    if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

case "${1:-}" in
    example)
        ensure_python
        mkdir -p out
        .venv/bin/scrm-xl run workbooks/example.xlsx -o out/example.xlsx --pdf out/example.pdf
        echo "dev.sh: wrote out/example.xlsx and out/example.pdf"
        ;;
    test)
        ensure_python
        ensure_test_tools
        shift
        .venv/bin/python -m pytest -q "$@"
        ;;
    *)
        echo "usage: ./dev.sh example | ./dev.sh test [pytest args]" >&2
        exit 2
        ;;
esac
