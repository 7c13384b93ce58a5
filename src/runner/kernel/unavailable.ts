import { AssayError } from "../../lib/errors.js";

/** The kernel backends a capture can use. */
export type KernelBackend = "bpftrace" | "strace";

/**
 * A kernel backend that cannot run here (missing, not permitted, failed to attach). The message is
 * the one line the health notes carry: `kernel_backend_unavailable: <reason>`.
 */
export class KernelBackendUnavailable extends AssayError {
  constructor(
    readonly backend: KernelBackend,
    readonly reason: string,
    cause?: unknown,
  ) {
    super(
      "runner_kernel_unavailable",
      `kernel_backend_unavailable: ${reason}`,
      cause === undefined ? {} : { cause },
    );
    this.name = "KernelBackendUnavailable";
  }
}
