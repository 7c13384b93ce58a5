import { Transform, type TransformCallback } from "node:stream";
import { constants, crc32, createDeflateRaw } from "node:zlib";

/**
 * The fixed gzip header of a bundle: no name, no extra fields, mtime 0, XFL 0, OS 255
 * ("unknown"), so the bytes do not depend on the platform that wrote them.
 */
export const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);

/**
 * The gzip header of the best level (XFL 2), as the Rust `flate2` crate writes it: what the runner's
 * archives carry (the earlier implementation's contract: level 9, mtime 0, OS 255).
 */
export const GZIP_HEADER_BEST = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0xff]);

/**
 * A gzip stream whose header is `GZIP_HEADER` (or, with `best`, `GZIP_HEADER_BEST` and level 9):
 * deflate with a hand-written header and trailer (node:zlib's own gzip writes the host's OS byte).
 */
export function canonicalGzip(opts: { best?: boolean } = {}): Transform {
  let crc = 0;
  let size = 0;
  const deflate = createDeflateRaw(opts.best ? { level: constants.Z_BEST_COMPRESSION } : {});
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      crc = crc32(chunk, crc);
      size = (size + chunk.length) >>> 0;
      if (deflate.write(chunk)) cb();
      else deflate.once("drain", () => cb());
    },
    flush(cb: TransformCallback) {
      deflate.once("end", () => {
        const trailer = Buffer.alloc(8);
        trailer.writeUInt32LE(crc >>> 0, 0);
        trailer.writeUInt32LE(size, 4);
        cb(null, trailer);
      });
      deflate.end();
    },
  });
  out.push(opts.best ? GZIP_HEADER_BEST : GZIP_HEADER);
  deflate.on("data", (c: Buffer) => out.push(c));
  deflate.on("error", (err) => out.destroy(err));
  return out;
}
