/**
 * Names that become paths: run ids (`--run`), cv and study ids (`--id`), a config's `name`, the
 * embedding cache's chunk files. {@link checkName} is the one check, made before any such name is
 * joined to a folder: one path component, no `..`, no leading dot, a plain charset.
 */

/** A name that may not become a path; the message names the kind, the value and what is allowed. */
export class NameError extends Error {
  constructor(
    /** What the name is (e.g. "run id", "config name"). */
    readonly kind: string,
    readonly value: string,
    why: string,
  ) {
    super(`${kind} ${JSON.stringify(value)} ${why} (a name: 1–200 letters, digits and _.=+-, starting with a letter or digit; it becomes a file or folder name, so no path separators and no "..")`);
    this.name = "NameError";
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.=+-]*$/;

/**
 * Returns `value` when it is a safe single path component, else throws {@link NameError}.
 * @example checkName("run id", "quick-f0-s0-20260101T000000") // ok
 * @example checkName("run id", "../x") // throws: has a path separator
 */
export function checkName(kind: string, value: string): string {
  const why =
    typeof value !== "string" ? "is not text"
    : value === "" ? "is empty"
    : /[/\\]/.test(value) ? "has a path separator"
    : value.includes("..") ? 'has ".."'
    : value.startsWith(".") ? "starts with a dot"
    : value.length > 200 ? "is longer than 200 characters"
    : !NAME.test(value) ? "has characters outside the allowed ones"
    : null;
  if (why) throw new NameError(kind, String(value), why);
  return value;
}
