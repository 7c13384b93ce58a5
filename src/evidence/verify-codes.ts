/** What kind of failure a verification code is. */
export type EvidenceVerifyClass = "integrity" | "contract" | "security" | "limits";

/** Every way `assay evidence verify` can reject a bundle, with its class (pinned in tests). */
export const EVIDENCE_VERIFY_CODES = {
  gzip_invalid: "integrity",
  gzip_truncated: "integrity",
  tar_invalid: "integrity",
  tar_truncated: "integrity",
  limit_compressed_size: "limits",
  limit_decompressed_size: "limits",
  limit_compression_ratio: "limits",
  limit_member_count: "limits",
  limit_member_size: "limits",
  limit_line_length: "limits",
  limit_nesting_depth: "limits",
  member_unsafe_path: "security",
  member_not_regular: "security",
  member_duplicate: "security",
  member_unexpected: "contract",
  member_order: "contract",
  member_missing: "contract",
  manifest_invalid_json: "contract",
  manifest_duplicate_key: "security",
  manifest_schema: "contract",
  manifest_not_canonical: "contract",
  events_size_mismatch: "integrity",
  events_hash_mismatch: "integrity",
  event_blank_line: "contract",
  event_unterminated: "contract",
  event_invalid_json: "contract",
  event_duplicate_key: "security",
  event_schema: "contract",
  event_content_hash_mismatch: "integrity",
  event_id_mismatch: "contract",
  event_seq_mismatch: "integrity",
  event_run_id_mismatch: "integrity",
  event_count_mismatch: "integrity",
  run_root_mismatch: "integrity",
  bundle_id_mismatch: "integrity",
} as const satisfies Record<string, EvidenceVerifyClass>;

export type EvidenceVerifyCode = keyof typeof EVIDENCE_VERIFY_CODES;

/**
 * What `assay evidence verify` reports about a bundle it accepts (or before the failure that
 * stops it) without it counting against the bundle: header bytes that differ from Assay's own
 * canonical ones but change nothing the verifier checks (pinned in tests).
 */
export const EVIDENCE_VERIFY_WARNINGS = {
  gzip_header_noncanonical: "gzip mtime, file name, comment, extra field or header CRC present",
  tar_header_noncanonical: "a member header's format, mode, ids, mtime, owner names or encoding differ",
} as const;

export type EvidenceVerifyWarningCode = keyof typeof EVIDENCE_VERIFY_WARNINGS;

/** A cosmetic difference verification noticed and did not hold against the bundle. */
export interface VerifyWarning {
  code: EvidenceVerifyWarningCode;
  message: string;
  /** `gzip header` or `member <n>`. */
  where?: string;
}

/** The first problem verification found. */
export interface VerifyFailure {
  code: EvidenceVerifyCode;
  class: EvidenceVerifyClass;
  message: string;
  /** `member`, `events.ndjson:line:col` or a JSON pointer into the manifest. */
  where?: string;
}

/** Thrown inside the verifier to stop at the first failure; never escapes `verifyBundle`. */
export class VerifyStop extends Error {
  readonly failure: VerifyFailure;
  constructor(code: EvidenceVerifyCode, message: string, where?: string) {
    super(message);
    this.failure = { code, class: EVIDENCE_VERIFY_CODES[code], message, ...(where ? { where } : {}) };
  }
}
