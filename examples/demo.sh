#!/usr/bin/env bash
# `npm run demo`: compile the bundled packs, decide a few tool calls, gate a real MCP server,
# soak a scripted agent, sign the result as an audit kit, and run a real agent through the gate.
set -u
cd "$(dirname "$0")/.."
assay=./bin/assay
packs=(--pack packs/mcp-baseline.yaml --pack examples/app-pack.yaml)

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step assay policy check packs/mcp-baseline.yaml examples/app-pack.yaml
$assay policy check packs/mcp-baseline.yaml examples/app-pack.yaml || exit 2

for call in read-workspace read-traversal shell metadata-ssrf secret-in-args typo-tool; do
  step assay policy eval "${packs[*]}" --call "examples/calls/$call.json"
  $assay policy eval "${packs[@]}" --call "examples/calls/$call.json"
  code=$?
  [ "$code" -le 1 ] || exit "$code"
  echo "(exit $code)"
done

step assay policy eval "${packs[*]}" --call examples/calls/secret-in-args.json --context examples/calls/prod-context.json --json
$assay policy eval "${packs[@]}" --call examples/calls/secret-in-args.json --context examples/calls/prod-context.json --json
[ $? -le 1 ] || exit 2

step assay policy test packs/
$assay policy test packs/ || exit $?

step node examples/gate-demo.mjs
node examples/gate-demo.mjs || exit $?

# A seeded soak of the scripted demo agent: real statistics, canaries, a soak-report-v1.
# The demo agent slips now and then (critical egress attempts included), so the verdict is a
# finding (exit 1); anything else stops the demo.
report="${TMPDIR:-/tmp}/assay-demo-soak.json"
step assay sim soak --target examples/demo-agent --iterations 2000 --seed 1 --report "$report"
$assay sim soak --target examples/demo-agent --iterations 2000 --seed 1 --report "$report"
code=$?
[ "$code" -le 1 ] || exit "$code"
echo "(exit $code; report in $report)"

# The soak as signed, offline-verifiable evidence: a key pair, an audit kit (SLSA provenance v1 and
# a soak-result statement, both DSSE-signed, with copies of what they name), and its verification.
kit="${TMPDIR:-/tmp}/assay-demo-kit"
signer="${TMPDIR:-/tmp}/assay-demo-signer"
rm -rf "$kit" "$signer.key" "$signer.pub"
step assay evidence keygen --out "$signer"
$assay evidence keygen --out "$signer" || exit 2
step assay audit-kit build --report "$report" --target examples/demo-agent --key "$signer.key" --out "$kit"
$assay audit-kit build --report "$report" --target examples/demo-agent --key "$signer.key" --out "$kit" || exit 2
step assay audit-kit verify "$kit" --key "$signer.pub"
$assay audit-kit verify "$kit" --key "$signer.pub" || exit $?

# The same soak machinery on a real agent: examples/node-agent (TypeScript, the official MCP SDK)
# works in a scratch directory through @modelcontextprotocol/server-filesystem behind
# `assay mcp wrap`; its trace is the gate's decision log. One trial per scenario, four at once.
step assay sim run --target examples/node-agent --seed 2 --concurrency 4 --no-progress
$assay sim run --target examples/node-agent --seed 2 --concurrency 4 --no-progress
code=$?
[ "$code" -le 1 ] || exit "$code"
echo "(exit $code)"
