/** The signature algorithms of keys Assay makes and reads. */
export type KeyAlgorithm = "ed25519" | "ecdsa-p256";
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ["ed25519", "ecdsa-p256"];
