// The gate's defaults and bounds, apart from the gates themselves: the CLI's help prints them
// without loading a transport, and each transport reads them without loading the other.

/** Client frames (stdio lines, HTTP bodies) over this size are refused unparsed (fail closed). */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** Client connections the HTTP proxy keeps open at once. */
export const DEFAULT_MAX_CONNECTIONS = 256;
