import { createHash, timingSafeEqual } from "node:crypto";
import type { Profile } from "../config-types.js";

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

/**
 * A check for the static dev token, or undefined when none may be accepted. The config loader
 * refuses a dev token outside the dev profile; this checks again so that a loader bug cannot
 * open a production service.
 */
export function devTokenCheck(
  devToken: string | undefined,
  profile: Profile,
): ((candidate: string) => boolean) | undefined {
  if (profile !== "dev" || devToken === undefined || devToken === "") return undefined;
  const expected = digest(devToken);
  // Comparing equal-length digests keeps the time independent of where the strings differ and
  // of the candidate's length.
  return (candidate) => timingSafeEqual(digest(candidate), expected);
}
