#!/usr/bin/env bash
# Package the Lambda functions offline and check the result (run by `make package`, `make test`).
#
#   1. build the Python dependency layer (build/layer/python) from uv.lock: runtime dependencies only,
#      aarch64 wheels for Python 3.12 (the Lambda runtime), without boto3/botocore (the runtime has them);
#   2. `osls package` -> .serverless/ (function zips, layer zip, CloudFormation template), with no AWS
#      account, no credentials and no network (see run_osls below);
#   3. cfn-lint the template (errors fail, warnings are printed);
#   4. print the artifact sizes and fail if a function plus the layer exceeds 200 MB unzipped.
#
# Safe to run again: when none of its inputs changed since the last successful run (fingerprint in
# build/package.fingerprint) it only re-checks the sizes, so `make test` (whose template test runs this
# script first) does not package twice. FORCE=1 packages anyway. STAGE / REGION default to dev / us-east-1.
set -euo pipefail
cd "$(dirname "$0")/.."

STAGE="${STAGE:-dev}"
REGION="${REGION:-us-east-1}"
UV=.tools/bin/uv
OSLS=node_modules/.bin/osls
CFN_LINT=.venv/bin/cfn-lint
PYTHON=.venv/bin/python
LAYER_DIR=build/layer
TEMPLATE=.serverless/cloudformation-template-update-stack.json
FINGERPRINT_FILE=build/package.fingerprint
MAX_UNZIPPED_MB=200 # AWS's hard limit is 250 MB (function + layers, unzipped); keep headroom.
FUNCTIONS=(webhook tutor billing migrate scheduler)
LAYER=deps

# Settings that are secrets: never let the deploying shell's values land in a packaged template.
# (serverless.yml no longer reads them - secrets live in Secrets Manager - but a future edit might.)
SECRET_VARS=(WHATSAPP_APP_SECRET WHATSAPP_VERIFY_TOKEN WHATSAPP_ACCESS_TOKEN WHATSAPP_PHONE_NUMBER_ID
  WHATSAPP_BUSINESS_ACCOUNT_ID STRIPE_API_KEY STRIPE_WEBHOOK_SECRET GROQ_API_KEY ANTHROPIC_API_KEY
  MODAL_TOKEN_ID MODAL_TOKEN_SECRET DATABASE_URL REDIS_URL)

for tool in "$UV" "$OSLS" "$CFN_LINT" "$PYTHON"; do
  [[ -x $tool ]] || { echo "package.sh: $tool is missing; run 'make install node-deps' first" >&2; exit 1; }
done

mkdir -p build
# One packaging at a time (the template test and `make package` may overlap).
exec 9>build/.package.lock
flock 9

fingerprint() {
  {
    echo "$STAGE $REGION"
    find espaluz functions infra/cloudformation -type f \
      -not -path '*/__pycache__/*' -not -name '*.py[co]' -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum
    sha256sum serverless.yml pyproject.toml uv.lock package-lock.json scripts/package.sh
  } | sha256sum | cut -d' ' -f1
}

build_layer() {
  echo "==> Building the dependency layer ($LAYER_DIR)"
  # Runtime dependencies only: --no-default-groups drops the `test` group (a default group in
  # pyproject.toml, which --no-dev alone keeps), and the `dev` extra is not requested. --prune boto3
  # drops boto3 and what only it needs (botocore, s3transfer, python-dateutil, six): the Lambda Python
  # runtime ships boto3, and leaving it out saves ~25 MB unzipped. The runtime's copy can be older than
  # uv.lock's; code that needs a newer boto3 API must remove --prune.
  "$UV" export --frozen --no-default-groups --no-dev --no-hashes --no-emit-project --no-header \
    --no-annotate --prune boto3 --output-file build/requirements.txt >/dev/null
  rm -rf "$LAYER_DIR"
  # The export is the complete, pinned closure, so --no-deps installs exactly it. Wheels only, for Lambda's
  # python3.12 arm64 runtime: Amazon Linux 2023, glibc 2.34 -> aarch64-manylinux_2_34 (manylinux2014 would
  # reject psycopg-binary, whose aarch64 wheels are manylinux_2_28).
  UV_PYTHON_DOWNLOADS=never "$UV" pip install --quiet --no-deps --only-binary :all: \
    --python-platform aarch64-manylinux_2_34 --python-version 3.12 \
    --target "$LAYER_DIR/python" -r build/requirements.txt
  # Console scripts point at this machine's interpreter (useless in Lambda); .lock is uv's.
  rm -rf "$LAYER_DIR/python/bin" "$LAYER_DIR/python/.lock"
  find "$LAYER_DIR" -name __pycache__ -type d -prune -exec rm -rf {} +
  # numpy's own test suite (about a third of its files) never runs in Lambda.
  find "$LAYER_DIR/python/numpy" -name tests -type d -prune -exec rm -rf {} +
  # Lambda's filesystem is read-only, so without bytecode in the package every cold start compiles each
  # module it imports (here the webhook handler imports in ~0.20 s with bytecode, ~0.4 s without). The
  # bytecode must be Python 3.12's, the runtime's; hash-based so the zip's timestamps do not matter.
  local py312
  py312=$(find_python312)
  if [[ -n $py312 ]]; then
    "$py312" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$LAYER_DIR/python" >/dev/null
  else
    echo "package.sh: no Python 3.12 here; the layer ships without bytecode (slower cold starts)" >&2
  fi
}

# A Python 3.12 interpreter to compile the layer's bytecode with: $PYTHON312, python3.12 on the PATH, or
# pyenv's 3.12 (its shim only answers when 3.12 is selected, so the version folder is tried directly).
find_python312() {
  local candidate
  for candidate in "${PYTHON312:-}" "$(command -v python3.12 2>/dev/null)" \
    "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12; do
    if [[ -n $candidate && -x $candidate ]] &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
}

# osls needs AWS only for one thing while packaging: to reuse an already-deployed layer it calls
# CloudFormation DescribeStacks (so it insists on credentials and, without network, fails on DNS). Point
# every AWS endpoint at a local stub that answers "stack does not exist" (what a first deploy sees), give
# the SDK dummy credentials, and isolate it from the user's ~/.aws. The stub logs each call; anything but
# DescribeStacks fails the run, so a new network dependency in osls cannot slip in unnoticed. osls itself
# has no telemetry, update checks or dashboard (removed from the fork), so nothing else is contacted.
run_osls() {
  local stub_log=build/aws-stub.log port_file=build/aws-stub.port stub_pid status=0
  rm -f "$stub_log" "$port_file"
  "$PYTHON" - "$port_file" "$stub_log" <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

port_file, log_file = Path(sys.argv[1]), Path(sys.argv[2])
BODY = (
    b'<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type>'
    b"<Code>ValidationError</Code><Message>Stack with id offline does not exist</Message></Error>"
    b"<RequestId>offline</RequestId></ErrorResponse>"
)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
        with log_file.open("a") as log:
            log.write(f"{self.headers.get('Host')} {form.get('Action', ['?'])[0]}\n")
        self.send_response(400)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    do_GET = do_PUT = do_POST

    def log_message(self, *args: object) -> None:
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
port_file.write_text(str(server.server_address[1]))
server.serve_forever()
PY
  stub_pid=$!
  for _ in $(seq 100); do [[ -s $port_file ]] && break; sleep 0.05; done
  [[ -s $port_file ]] || { kill "$stub_pid"; echo "package.sh: the AWS stub did not start" >&2; return 1; }

  local unset_args=()
  for var in "${SECRET_VARS[@]}" AWS_PROFILE AWS_SESSION_TOKEN AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE \
    AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI; do
    unset_args+=(-u "$var")
  done
  env "${unset_args[@]}" \
    AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
    AWS_ENDPOINT_URL="http://127.0.0.1:$(cat "$port_file")" SLS_AWS_REQUEST_MAX_RETRIES=0 \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true \
    timeout 300 "$OSLS" package --stage "$STAGE" --region "$REGION" || status=$?
  kill "$stub_pid"
  wait "$stub_pid" 2>/dev/null || true
  if [[ $status -ne 0 ]]; then
    echo "package.sh: osls package failed (exit $status)" >&2
    return "$status"
  fi
  if grep -v ' DescribeStacks$' "$stub_log" 2>/dev/null; then
    echo "package.sh: osls made AWS calls other than DescribeStacks (above); packaging must stay offline" >&2
    return 1
  fi
}

lint_template() {
  echo "==> cfn-lint $TEMPLATE"
  # Errors fail; warnings and informational findings are printed. W3005 (DependsOn also implied by a
  # Ref/GetAtt) is ignored: the framework writes those DependsOn itself (roles, HTTP API routes).
  "$CFN_LINT" --regions "$REGION" --non-zero-exit-code error --ignore-checks W3005 -- "$TEMPLATE"
}

print_sizes() {
  "$PYTHON" - "$MAX_UNZIPPED_MB" "$LAYER" "${FUNCTIONS[@]}" <<'PY'
import sys
import zipfile
from pathlib import Path

limit_mb, layer, functions = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
MB = 1024 * 1024


def sizes(name: str) -> tuple[int, int]:
    path = Path(".serverless") / f"{name}.zip"
    with zipfile.ZipFile(path) as archive:
        return path.stat().st_size, sum(info.file_size for info in archive.infolist())


layer_zip, layer_raw = sizes(layer)
print(f"{'artifact':<16}{'zipped MB':>12}{'unzipped MB':>14}{'+ layer MB':>13}")
failed = []
for name in functions:
    zipped, raw = sizes(name)
    total = raw + layer_raw
    print(f"{name + '.zip':<16}{zipped / MB:>12.2f}{raw / MB:>14.2f}{total / MB:>13.2f}")
    if total > limit_mb * MB:
        failed.append(name)
print(f"{layer + '.zip (layer)':<16}{layer_zip / MB:>12.2f}{layer_raw / MB:>14.2f}{'':>13}")
if failed:
    sys.exit(f"package.sh: {', '.join(failed)} exceed {limit_mb:.0f} MB unzipped (function + layer)")
PY
}

outputs_present() {
  [[ -f $TEMPLATE && -f .serverless/$LAYER.zip ]] || return 1
  local name
  for name in "${FUNCTIONS[@]}"; do [[ -f .serverless/$name.zip ]] || return 1; done
}

current=$(fingerprint)
if [[ ${FORCE:-0} != 1 && -f $FINGERPRINT_FILE && $(cat "$FINGERPRINT_FILE") == "$current" ]] && outputs_present; then
  echo "==> Package up to date (inputs unchanged since the last successful run; FORCE=1 to rebuild)"
else
  rm -f "$FINGERPRINT_FILE"
  build_layer
  # This machine's bytecode (another Python's) has no place in the artifacts, and osls's "!**/__pycache__"
  # pattern does not reach into a function's own folder: remove it before packaging.
  find espaluz functions -name __pycache__ -type d -prune -exec rm -rf {} +
  echo "==> osls package --stage $STAGE --region $REGION (offline)"
  run_osls
  lint_template
  echo "$current" >"$FINGERPRINT_FILE"
fi
print_sizes
