import { EXIT } from "../../lib/errors.js";
import { loadServeConfig } from "../../serve/config.js";
import { createServeMetrics } from "../../serve/metrics.js";
import { PolicyStore } from "../../serve/policy-store.js";
import { startService } from "../../serve/server.js";
import { loadTls } from "../../serve/tls/load.js";

export interface ServeCli {
  config: string;
  listen?: string;
  check?: boolean;
}

/** `assay serve`: run until SIGTERM/SIGINT, then drain and exit 0. */
export async function serve(opts: ServeCli): Promise<number> {
  const config = await loadServeConfig(opts.config, opts.listen === undefined ? {} : { listen: opts.listen });
  if (opts.check) {
    if (config.tls) await loadTls(config.tls, config.profile);
    const store = new PolicyStore(createServeMetrics("check"));
    await store.loadSources(config.policies);
    process.stdout.write(
      `config ok: profile ${config.profile}, ${store.size} polic${store.size === 1 ? "y" : "ies"} (${store
        .list()
        .map((p) => p.id)
        .join(", ")}), ${config.tls ? (config.tls.mtls?.enabled ? "TLS with mTLS" : "TLS") : "plain HTTP"}\n`,
    );
    return EXIT.ok;
  }
  const service = await startService(config);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      service.app.log.info({ signal }, "shutting down: readiness false, draining in-flight requests");
      service.close().then(resolve, (err: unknown) => {
        service.app.log.error({ err: (err as Error).message }, "shutdown failed");
        resolve();
      });
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  return EXIT.ok;
}
