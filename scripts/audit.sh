#!/usr/bin/env bash
# Fails on any high or critical advisory in the production dependencies.
# If the registry offers no audit endpoint (some mirrors answer 405), that
# is said loudly and the check cannot pass or fail: it is not silently green.
set -uo pipefail
out=$(npm audit --omit=dev --audit-level=high --json 2>/dev/null)
status=$?
if printf '%s' "$out" | grep -q '"vulnerabilities"'; then
  high=$(printf '%s' "$out" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const m=JSON.parse(s).metadata?.vulnerabilities??{};console.log((m.high??0)+(m.critical??0))})')
  if [ "${high:-0}" -gt 0 ]; then
    npm audit --omit=dev --audit-level=high
    echo "audit: ${high} high or critical advisories in production dependencies" >&2
    exit 1
  fi
  echo "audit: no high or critical advisories in production dependencies"
  exit 0
fi
echo "!!! audit: the registry gave no audit report (exit ${status}); production dependencies were NOT checked for advisories" >&2
exit 0
