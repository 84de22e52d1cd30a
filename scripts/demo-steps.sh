#!/usr/bin/env bash
# The demo's steps, run by scripts/demo.sh inside scripts/with-moto.sh (a local moto server).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
# The release binary `make demo` builds; CONSOLE_ACCESS_BIN may name another (a debug build).
bin="${CONSOLE_ACCESS_BIN:-$here/.build/release/console-access}"
out="$here/.demo"
rm -rf "$out"
mkdir -p "$out"
endpoint="$CONSOLE_ACCESS_MOTO_ENDPOINT"
# moto accepts any credentials; these are AWS's documented example keys. Nothing here reaches AWS.
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Sample IAM users in the local emulator ($endpoint)"
"$here/.venv/bin/python" "$here/scripts/demo-seed.py" "$here/samples/demo-users.csv"

step "2. Check the input file without touching AWS: console-access validate samples/mixed.csv"
"$bin" validate "$here/samples/mixed.csv" || true

step "3. Dry run: what would change (nothing is changed)"
"$bin" batch "$here/samples/mixed.csv" --report "$out/dry-run.csv" --dry-run --endpoint-url "$endpoint" || true
"$here/.venv/bin/python" "$here/scripts/show-csv.py" "$out/dry-run.csv" line,user,action,status,detail

step "4. The real run: console-access batch samples/mixed.csv --report .demo/report.csv"
set +e
"$bin" batch "$here/samples/mixed.csv" --report "$out/report.csv" --endpoint-url "$endpoint" \
    --deactivate-access-keys --audit-log "$out/audit.jsonl"
status=$?
set -e
echo "  exit code $status (1: some rows are not-found or invalid, as this file intends)"
"$here/.venv/bin/python" "$here/scripts/show-csv.py" "$out/report.csv" line,user,action,status,detail,error_code,attempts

step "5. Run it again: safe, nothing left to do (a new report; enabled users keep their passwords)"
"$bin" batch "$here/samples/mixed.csv" --report "$out/report-again.csv" --endpoint-url "$endpoint" \
    --deactivate-access-keys || true
"$here/.venv/bin/python" "$here/scripts/show-csv.py" "$out/report-again.csv" line,user,status,detail

step "6. Reset forgotten passwords: console-access batch samples/password-reset.csv (never creates a login profile)"
"$bin" batch "$here/samples/password-reset.csv" --report "$out/reset.csv" --endpoint-url "$endpoint" || true
"$here/.venv/bin/python" "$here/scripts/show-csv.py" "$out/reset.csv" line,user,action,status,detail,error_code

step "7. Access review from the IAM credential report: console-access review --inactive-days 90 --include-keys ..."
"$bin" review --endpoint-url "$endpoint" --output "$out/review.csv" --inactive-days 90 --include-keys \
    --emit-batch "$out/inactive-offboarding.csv" --evidence "$out/evidence" || true
"$here/.venv/bin/python" "$here/scripts/show-csv.py" "$out/review.csv" \
    user,console_access,password_last_used,mfa_active,access_key_1_active,state,reason
if [ -f "$out/inactive-offboarding.csv" ]; then
    echo "  ready-to-run offboarding file for inactive users: .demo/inactive-offboarding.csv"
    "$here/.venv/bin/python" "$here/scripts/show-csv.py" "$out/inactive-offboarding.csv"
fi
[ -f "$out/evidence/manifest.json" ] && echo "  evidence pack for the auditor: .demo/evidence/ (manifest.json lists each file's SHA-256)"

step "8. Complete offboarding, and the way back: --revoke ... --emit-restore, then the emitted restore file"
# `--revoke all` also covers service-specific credentials; the local emulator lacks those calls.
"$bin" batch "$here/samples/leavers.csv" --report "$out/leavers-report.csv" \
    --revoke console,keys,ssh,certs,mfa --emit-restore "$out/leavers-undo.csv" --endpoint-url "$endpoint" || true
"$here/.venv/bin/python" "$here/scripts/show-csv.py" "$out/leavers-report.csv" line,user,status,detail
echo "  the way back, written as the run went (.demo/leavers-undo.csv, mode 0600):"
"$here/.venv/bin/python" "$here/scripts/show-csv.py" "$out/leavers-undo.csv"
"$bin" batch "$out/leavers-undo.csv" --report "$out/undo-report.csv" \
    --generate-passwords "$out/undo-passwords.csv" --endpoint-url "$endpoint" || true
"$here/.venv/bin/python" "$here/scripts/show-csv.py" "$out/undo-report.csv" line,user,action,status,detail

step "9. Many accounts in one run: console-access batch samples/leavers-many-accounts.csv --accounts 123456789012,111122223333"
# 123456789012 is the base credentials' own account; 111122223333 a member account, reached through
# the role OrganizationAccountAccessRole assumed from the base credentials (as AWS Organizations sets it up).
"$here/.venv/bin/python" "$here/scripts/demo-seed-accounts.py" \
    123456789012=gus.moreau,ivo.petrov 111122223333=gus.moreau,hana.ito,ivo.petrov
echo "  the file: rows with an empty account cell run in every account of --accounts; ivo.petrov's row names its account"
"$here/.venv/bin/python" "$here/scripts/show-csv.py" "$here/samples/leavers-many-accounts.csv"
set +e
"$bin" batch "$here/samples/leavers-many-accounts.csv" --report "$out/accounts-report.csv" \
    --accounts 123456789012,111122223333 --endpoint-url "$endpoint"
status=$?
set -e
echo "  exit code $status: a user missing from an account is absent there (counted, not a failure; --report-absent writes those rows)"
"$here/.venv/bin/python" "$here/scripts/show-csv.py" "$out/accounts-report.csv" line,user,status,detail,account
echo "  ivo.petrov's row ran only in the account it names (he keeps console access in 123456789012)"

step "Files written"
echo "  .demo/report.csv + .demo/report.csv.run.json (report and run record), .demo/audit.jsonl (one line per AWS call)"
echo "  .demo/accounts-report.csv + its run record (per-account counts under summary.accounts)"

step "Against real AWS you would type"
cat <<'TXT'
  # credentials as the AWS CLI finds them (a profile, environment variables, a role, instance or
  # container credentials), with the least-privilege policy in samples/iam-policy.json attached
  console-access validate hr-offboarding.csv
  console-access batch hr-offboarding.csv --report offboarding-dry-run.csv --profile security-ops --dry-run
  console-access batch hr-offboarding.csv --report offboarding-report.csv --profile security-ops --revoke all --emit-restore offboarding-undo.csv
  console-access batch new-hires.csv --report onboarding-report.csv --profile security-ops --wait-for-user 2m
  console-access batch hr-offboarding.csv --report org-offboarding.csv --profile org-management --organization --exclude-accounts @sandbox-accounts.txt
  console-access modify --user ben.okafor --reset --password-stdin --profile security-ops
TXT
