import { PACKAGE } from "../lib/package-info.js";

// A reader that goes away (`assay ... | head`) is not an error worth a stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

const argv = process.argv.slice(2);
// `assay --version` alone, the way scripts and installers probe for the tool, is answered as the
// command parser would answer it, before it loads; everything else goes through the parser.
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  process.stdout.write(`${PACKAGE.version}\n`);
} else {
  await (await import("./program.js")).main(argv);
}
