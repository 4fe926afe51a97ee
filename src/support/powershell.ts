/**
 * Writing values into PowerShell text safely. Every value the broker puts into a script goes through
 * {@link psQuote}, even when it was validated before: a single-quoted string is verbatim (no `$` expansion, no
 * backtick escapes), and its only special characters are the quote marks themselves, which are escaped by
 * doubling. PowerShell accepts the typographic single quotes U+2018–U+201B as quote marks too, so those are
 * doubled as well (as `System.Management.Automation.Language.CodeGeneration.EscapeSingleQuotedStringContent`
 * does). Text for comments goes through {@link psCommentText}, which keeps it on one line.
 * @module
 */

const SINGLE_QUOTES = /['\u2018\u2019\u201A\u201B]/g;
/** Line breaks PowerShell (or an editor showing the script) may treat as the end of a comment line. */
const LINE_BREAKS_AND_CONTROLS = /[\p{Cc}\u0085\u2028\u2029]/gu;

/** `value` as a PowerShell single-quoted string literal. */
export function psQuote(value: string): string {
  return `'${value.replace(SINGLE_QUOTES, (q) => q + q)}'`;
}

/** `value` made safe for the rest of a `#` comment line: control characters and line breaks become spaces. */
export function psCommentText(value: string, maxLength = 200): string {
  return value.replace(LINE_BREAKS_AND_CONTROLS, ' ').slice(0, maxLength);
}
