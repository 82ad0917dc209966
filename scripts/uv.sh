# Sourced by the other scripts: finds uv, or installs the pinned version beside the project.
UV_VERSION=0.13.9
if command -v uv >/dev/null 2>&1; then
  UV=uv
else
  if [ ! -x .tools/bin/uv ]; then
    echo "Installing uv $UV_VERSION into .tools/ ..." >&2
    python3 -m venv .tools
    .tools/bin/pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
  UV=.tools/bin/uv
fi
export UV_PYTHON_DOWNLOADS=never
