# Sourced by the launch scripts: the interpreter is $PYTHON when set, else the project's
# .venv (what `make setup` builds) when it exists, else `python` from PATH.
if [ -z "${PYTHON:-}" ]; then
    _venv_python="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv/bin/python"
    if [ -x "$_venv_python" ]; then PYTHON=$_venv_python; else PYTHON=python; fi
fi
