import type { ClaimState, EvidenceResult } from "../matrix-doc.js";
import { type Html, html } from "./html.js";

/** A state's name on its colour: the name is the information, the colour only helps. */
export function stateBadge(state: ClaimState): Html {
  return html`<span class="state state-${state}">${state}</span>`;
}

/** A yes/no written with a symbol and words (never colour alone), e.g. `✓ met` / `✗ not met`. */
export function check(ok: boolean, yes: string, no: string): Html {
  return ok ? html`<span class="ok">✓ ${yes}</span>` : html`<span class="bad">✗ ${no}</span>`;
}

const STATUS_MARK: Readonly<Record<EvidenceResult["status"], string>> = {
  pass: "✓",
  fail: "✗",
  error: "!",
  missing: "?",
};

/** An evidence source's status with its symbol and its word. */
export function statusBadge(status: EvidenceResult["status"]): Html {
  return html`<span class="status status-${status}">${STATUS_MARK[status] ?? ""} ${status}</span>`;
}
