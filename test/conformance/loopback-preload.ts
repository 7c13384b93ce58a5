import net from "node:net";

/**
 * Loaded with `node --import` in front of a server that listens on every interface at `$PORT`
 * (server-everything's Streamable HTTP transport does): a `listen(port)` without a host listens
 * on 127.0.0.1 instead, and the address it got is printed on stderr, so the server can be given
 * `PORT=0` (a free port) and found. Nothing else about the server changes.
 */
const listen = net.Server.prototype.listen;

net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
  const port = args[0];
  const isPort = typeof port === "number" || (typeof port === "string" && /^\d+$/.test(port));
  if (isPort && typeof args[1] !== "string") args.splice(1, 0, "127.0.0.1");
  this.once("listening", () => {
    const a = this.address();
    if (a !== null && typeof a === "object")
      process.stderr.write(`loopback-preload: listening ${a.address}:${a.port}\n`);
  });
  return (listen as (...a: unknown[]) => net.Server).apply(this, args);
} as typeof listen;
