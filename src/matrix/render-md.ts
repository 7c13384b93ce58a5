import { campaignSummary } from "./campaign.js";
import { CLAIM_STATES, type ClaimRow, type EvidenceResult, type MatrixDoc } from "./matrix-doc.js";
import { levelTitle } from "./readiness.js";
import { formatSpan } from "./window.js";

/** matrix.md, also printed on stdout: per group a table and its limitations, then the campaign, disclosures and readiness. */
export function renderMatrixMarkdown(doc: MatrixDoc): string {
  const out: string[] = [`# ${text(doc.title)}`, ""];
  const total = CLAIM_STATES.map((s) => `${doc.matrix.filter((r) => r.state === s).length} ${s}`).join(", ");
  out.push(
    `Generated ${doc.generated_at_utc} by assay ${doc.assay_version}: ${doc.matrix.length} claims (${total}).`,
    "",
  );
  for (const g of doc.groups) {
    const rows = doc.matrix.filter((r) => r.group === g.id);
    out.push(
      `## ${text(g.title)}`,
      "",
      "| ID | Claim | Evidence | State | Recommendation |",
      "| --- | --- | --- | --- | --- |",
    );
    for (const r of rows) {
      out.push(
        `| ${r.id} | ${cell(r.claim)} | ${cell(evidenceCell(r))} | ${r.state} | ${r.recommendation} |`,
      );
    }
    out.push("");
    const notes = rows.filter((r) => r.state !== "VALIDATED");
    if (notes.length > 0) {
      out.push("Why not VALIDATED:", "");
      for (const r of notes) out.push(`- ${r.id} (${r.state}): ${text(r.reason)}`);
      out.push("");
    }
    const limits = rows.filter((r) => r.limitations !== null);
    if (limits.length > 0) {
      out.push("Key limitations:", "");
      for (const r of limits) out.push(`- ${r.id}: ${text(r.limitations ?? "")}`);
      out.push("");
    }
  }

  const c = doc.evidence_campaign;
  out.push("## Evidence campaign", "");
  const end =
    c.anchor === null
      ? ""
      : ` ending ${c.anchor} (${c.anchor_source === "now" ? "--now" : "the newest artifact"})`;
  out.push(`Window ${c.window}${end}: ${c.holds ? "holds" : "does not hold"}; ${campaignSummary(c)}.`);
  if (c.earliest !== null) {
    out.push(`Artifacts from ${c.earliest} to ${c.latest} (span ${formatSpan(c.span_seconds ?? 0)}).`);
  }
  for (const o of c.outside) out.push(`- outside: ${o.path} (${o.timestamp}): ${o.reason}`);
  for (const m of c.missing_timestamps) out.push(`- no timestamp: ${m.path}: ${text(m.reason)}`);
  out.push("");

  const d = doc.design_partner_disclosures;
  out.push("## Design-partner disclosures", "");
  if (d.required.length === 0) out.push("No BETA claims: nothing needs a written disclosure.");
  else {
    out.push(`File: ${d.file ?? "none (--disclosures)"}.`, "");
    for (const r of d.required) {
      const ok = r.code !== "" && !d.missing.some((m) => m.claim === r.claim);
      out.push(`- ${r.claim}: \`${r.code || "no code"}\` ${ok ? "written" : "MISSING"}`);
    }
  }
  out.push("");

  out.push("## Readiness", "");
  for (const l of doc.readiness) {
    out.push(`### ${levelTitle(l.level)}: ${l.met ? "met" : "NOT MET"}`, "");
    for (const u of l.unmet) out.push(`- ${u.requirement}: ${text(u.reason)}`);
    if (l.unmet.length > 0) out.push("");
  }
  if (doc.required !== null) {
    out.push(`Required: ${levelTitle(doc.required.level)}: ${doc.required.met ? "met" : "NOT MET"}.`, "");
  }
  return `${out.join("\n").trimEnd()}\n`;
}

function evidenceCell(r: ClaimRow): string {
  if (r.evidence.length === 0) return "none";
  return r.evidence.map(evidenceText).join("; ");
}

function evidenceText(e: EvidenceResult): string {
  const found = "found" in e ? ` (found ${JSON.stringify(e.found)})` : "";
  return `${e.kind} \`${e.file}\`: \`${e.criterion}\` ${e.status}${found}`;
}

/** One line, whatever the registry's text holds. */
function text(s: string): string {
  return s.replace(/\s*\n\s*/g, " ");
}

function cell(s: string): string {
  return text(s).replace(/\|/g, "\\|");
}
