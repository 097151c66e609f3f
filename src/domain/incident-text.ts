/**
 * Free text typed into an incident (description, comment). Plain text, shown escaped everywhere, so HTML is harmless
 * and allowed (a teacher may paste an error message with `<tags>`); control characters are not, except newline and
 * tab. Browsers send a textarea's line breaks as CRLF: they are normalized to LF first.
 */
export const MAX_INCIDENT_TEXT = 5000;

// C0 controls but \t and \n, DEL, and the C1 controls.
const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;

export function normalizeNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

export function hasForbiddenControl(text: string): boolean {
  return FORBIDDEN_CONTROL.test(text);
}
