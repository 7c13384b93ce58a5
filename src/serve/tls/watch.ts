import { type FSWatcher, watch } from "node:fs";
import { dirname } from "node:path";
import type { Server } from "node:tls";
import { type Clock, systemClock } from "../../lib/clock.js";
import { AssayError } from "../../lib/errors.js";
import type { Profile, TlsConfig } from "../config-types.js";
import { buildTls, digestTlsFiles, readTlsFiles, type TlsMaterial, tlsFilePaths } from "./load.js";
import { oneLine } from "./pem.js";

export interface TlsReloadHooks {
  /** New connections now get this certificate. Count `tlsReload("ok")` here. */
  onReload(info: { serial: string; not_after: string }): void;
  /**
   * Changed files were refused; the previous certificate keeps serving. Called again every
   * `repeatMs` while the same files stay refused. Count `tlsReload("error")` here.
   */
  onError(err: AssayError): void;
  /** The watcher lost a directory watch and relies on polling alone (not a reload failure). */
  onWarning?(message: string): void;
}

export interface WatchTlsOptions {
  /** Quiet time after the last file event before reloading; a rotation writes several files. */
  readonly debounceMs?: number;
  /** How often the files are re-read and hashed anyway, for mounts where events do not arrive. */
  readonly pollMs?: number;
  /**
   * How often refused files are reported again while they stay: often enough that an alert on
   * `increase(assay_tls_reloads_total{outcome="error"}[15m])` keeps firing until they are fixed.
   */
  readonly repeatMs?: number;
  /**
   * How long changed files may stay refused before it is reported: a rotation that writes the
   * certificate and then the key passes through a mismatched state, which must not count as a
   * failed reload (one `error` would hold a 15-minute alert). The files are checked again then.
   */
  readonly settleMs?: number;
  readonly clock?: Clock;
  /** What the server was started with: a change between loading and watching is then applied. */
  readonly current?: TlsMaterial;
}

export const DEFAULT_DEBOUNCE_MS = 100;
export const DEFAULT_POLL_MS = 5_000;
export const DEFAULT_REPEAT_MS = 5 * 60_000;
export const DEFAULT_SETTLE_MS = 1_000;

/**
 * Reload the server's certificate, key, chain and client CA bundle when their files change, via
 * `server.setSecureContext`: new connections get the new material, open ones keep theirs. Watches
 * the parent directories rather than the files, because a Kubernetes secret mount swaps a `..data`
 * symlink and editors and `mv` replace the file (a watch on the old inode would never fire again),
 * and polls by content hash as a fallback. A change that fails `loadTls`'s checks is reported
 * through `onError` once it has stayed for `settleMs` (then every `repeatMs` while it stays), and the previous material keeps
 * serving. Does nothing when `cfg.reload` is off.
 * Hooks must not throw.
 */
export function watchTls(
  server: Server,
  cfg: TlsConfig,
  profile: Profile,
  hooks: TlsReloadHooks,
  opts: WatchTlsOptions = {},
): { close(): void } {
  if (!cfg.reload) return { close() {} };
  const debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  const clock = opts.clock ?? systemClock;
  const repeatNs = BigInt(opts.repeatMs ?? DEFAULT_REPEAT_MS) * 1_000_000n;
  let applied = opts.current?.digest;
  // The digest (or read error) last reported through onError, and when: each poll sees it again.
  let refused: { key: string; err: AssayError; at: bigint } | undefined;
  // Files seen refused once and not yet reported: reported only if still there when looked at again.
  let suspect: string | undefined;
  let settleTimer: NodeJS.Timeout | undefined;
  const settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS;
  let closed = false;
  let running = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  const checkOnce = async (): Promise<void> => {
    let files: Awaited<ReturnType<typeof readTlsFiles>>;
    try {
      files = await readTlsFiles(cfg);
    } catch (err) {
      const e = asAssayError(err);
      return refuse(`read:${e.where}:${e.message}`, e);
    }
    const digest = digestTlsFiles(files);
    if (applied === undefined) applied = digest;
    if (digest === applied) {
      refused = undefined;
      suspect = undefined;
      return;
    }
    // The same broken files as last time: no need to check them again, only maybe to say so again.
    if (refused?.key === digest) return refuse(digest, refused.err);
    if (closed) return;
    let material: TlsMaterial;
    try {
      material = buildTls(files, cfg, profile, clock);
      server.setSecureContext(material.options);
    } catch (err) {
      return refuse(digest, asAssayError(err));
    }
    applied = digest;
    refused = undefined;
    suspect = undefined;
    hooks.onReload({ serial: material.certificate.serial, not_after: material.certificate.not_after });
  };

  const refuse = (key: string, err: AssayError): void => {
    if (closed) return;
    if (refused?.key !== key && suspect !== key) {
      suspect = key;
      clearTimeout(settleTimer);
      settleTimer = setTimeout(() => void check(), settleMs);
      settleTimer.unref();
      return;
    }
    suspect = undefined;
    const now = clock.monotonicNs();
    if (refused?.key === key && now - refused.at < repeatNs) return;
    refused = { key, err, at: now };
    hooks.onError(err);
  };

  // One check at a time; a request during one runs another right after, on the newest files.
  const check = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await checkOnce();
      } while (again && !closed);
    } finally {
      running = false;
    }
  };

  const schedule = (): void => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void check(), debounceMs);
  };

  const watchers: FSWatcher[] = [];
  for (const dir of new Set(tlsFilePaths(cfg).map((p) => dirname(p)))) {
    try {
      // Any event in the directory: the file's own name does not change when `..data` is swapped.
      const w = watch(dir, { persistent: false }, schedule);
      w.on("error", (err) => {
        w.close();
        hooks.onWarning?.(`\`${dir}\`: stopped watching (${oneLine(err)}): polling only`);
      });
      watchers.push(w);
    } catch (err) {
      hooks.onWarning?.(`\`${dir}\`: cannot watch (${oneLine(err)}): polling only`);
    }
  }
  const poll = setInterval(() => void check(), opts.pollMs ?? DEFAULT_POLL_MS);
  poll.unref();
  void check();

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      clearTimeout(settleTimer);
      clearInterval(poll);
      for (const w of watchers) w.close();
    },
  };
}

function asAssayError(err: unknown): AssayError {
  return err instanceof AssayError
    ? err
    : new AssayError("serve_tls_invalid", `reload failed: ${oneLine(err)}`, { cause: err });
}
