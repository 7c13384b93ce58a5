import { access, rm } from "node:fs/promises";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { AssayError } from "../lib/errors.js";
import { generateKeyPairPem, type KeyAlgorithm, keyId, parsePublicKey } from "./keys.js";

export interface WrittenKeyPair {
  algorithm: KeyAlgorithm;
  privateKeyPath: string;
  publicKeyPath: string;
  keyid: string;
}

/**
 * Generate a key pair and write `<name>.key` (PKCS#8 PEM, mode 0600) and `<name>.pub` (SPKI PEM).
 * Without `force`, an existing file of either name is an error and nothing is written.
 */
export async function writeKeyPair(
  name: string,
  algorithm: KeyAlgorithm,
  opts: { force?: boolean } = {},
): Promise<WrittenKeyPair> {
  const privateKeyPath = `${name}.key`;
  const publicKeyPath = `${name}.pub`;
  const force = opts.force === true;
  if (!force) {
    for (const p of [privateKeyPath, publicKeyPath]) {
      if (await exists(p))
        throw new AssayError("output_unwritable", "refusing to overwrite an existing file (use --force)", {
          where: p,
        });
    }
  }
  const pair = generateKeyPairPem(algorithm);
  await writeFileAtomic(privateKeyPath, pair.privateKeyPem, { mode: 0o600, overwrite: force });
  try {
    await writeFileAtomic(publicKeyPath, pair.publicKeyPem, { mode: 0o644, overwrite: force });
  } catch (err) {
    // Half a key pair is worse than none: the private key just written has no published half.
    await rm(privateKeyPath, { force: true }).catch(() => {});
    throw err;
  }
  return {
    algorithm,
    privateKeyPath,
    publicKeyPath,
    keyid: keyId(parsePublicKey(pair.publicKeyPem, publicKeyPath)),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
