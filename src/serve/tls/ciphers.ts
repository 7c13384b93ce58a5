/**
 * The TLS 1.2 cipher suites `assay serve` offers when the config names none: forward secret
 * (ECDHE) key exchange with an AEAD (AES-GCM, ChaCha20-Poly1305) only; no RSA key exchange, no
 * CBC, no SHA-1 MACs, no DHE. Mozilla's "intermediate" list without its DHE entries, in its order
 * (AES-128 first: as strong in practice and faster). ECDSA and RSA variants are both listed so
 * either kind of server key works. TLS 1.3 suites are not listed: Node keeps its defaults (all
 * three are AEADs), and a client that can speak 1.3 negotiates it first.
 */
export const DEFAULT_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");
