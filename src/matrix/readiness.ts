import { campaignSummary } from "./campaign.js";
import type {
  ClaimRow,
  Disclosures,
  EvidenceCampaign,
  ReadinessLevel,
  ReadinessResult,
} from "./matrix-doc.js";

const TITLE: Record<ReadinessLevel, string> = {
  design_partner: "Design Partner Ready",
  ga: "GA Ready",
  public_production: "Public Production Claim",
};

export function levelTitle(level: ReadinessLevel): string {
  return TITLE[level];
}

/**
 * The three readiness levels, each with exactly what it lacks. Design Partner Ready: every
 * design-partner claim VALIDATED or BETA, the campaign window holding and a written disclosure for
 * every BETA claim. GA Ready: Design Partner Ready and every `ga` claim VALIDATED. Public
 * Production Claim: GA Ready and every `public_production` claim VALIDATED.
 */
export function readinessLevels(
  rows: readonly ClaimRow[],
  campaign: EvidenceCampaign,
  disclosures: Disclosures,
): ReadinessResult[] {
  const dp: ReadinessResult["unmet"] = [];
  for (const r of rows) {
    if (r.required_for === "design_partner" && r.state !== "VALIDATED" && r.state !== "BETA") {
      dp.push({ requirement: r.id, reason: `${r.state}: ${r.reason}` });
    }
  }
  if (!campaign.holds) dp.push({ requirement: "evidence_campaign", reason: campaignSummary(campaign) });
  if (disclosures.required.length > 0 && disclosures.file === null) {
    dp.push({
      requirement: "disclosures",
      reason: `no disclosures file (--disclosures) for ${disclosures.required.length} BETA claim(s)`,
    });
  } else {
    for (const m of disclosures.missing) {
      dp.push(
        m.code === ""
          ? { requirement: `disclosure:${m.claim}`, reason: `BETA claim ${m.claim} has no disclosure code` }
          : {
              requirement: `disclosure:${m.code}`,
              reason: `BETA claim ${m.claim}'s disclosure \`${m.code}\` is not in ${disclosures.file}`,
            },
      );
    }
  }
  const levels: ReadinessResult[] = [{ level: "design_partner", met: dp.length === 0, unmet: dp }];
  for (const level of ["ga", "public_production"] as const) {
    const below = levels[levels.length - 1] as ReadinessResult;
    const unmet: ReadinessResult["unmet"] = below.met
      ? []
      : [
          {
            requirement: below.level,
            reason: `${TITLE[below.level]} is not met (${below.unmet.length} unmet)`,
          },
        ];
    for (const r of rows) {
      if (r.required_for === level && r.state !== "VALIDATED") {
        unmet.push({ requirement: r.id, reason: `${r.state}: ${r.reason}` });
      }
    }
    levels.push({ level, met: unmet.length === 0, unmet });
  }
  return levels;
}
