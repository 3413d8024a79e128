// Assertions that a text (logs, a store file, a page) holds no patron data.
import { expect } from 'vitest';

// Card numbers and other long values: anywhere in the text.
export function expectAbsent(text: string, values: readonly string[]): void {
  for (const value of values) expect(text.includes(value), `found ${JSON.stringify(value)}`).toBe(false);
}

// PINs are short numbers: look for them as whole numbers, so that a port
// such as 34563 or a timing of 9999 ms is not taken for the PIN 3456 or 9999.
export function expectNoPins(text: string, pins: readonly string[]): void {
  for (const pin of pins) {
    expect(new RegExp(`(?<![0-9])${pin}(?![0-9])`).test(text), `found the PIN ${pin}`).toBe(false);
  }
}
