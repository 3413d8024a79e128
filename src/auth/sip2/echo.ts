// Does the AA a server echoed name the card that was sent? Servers do not
// echo faithfully (issue 13): an ASCII SIP account strips accents (jörg →
// jorg) or mangles what it cannot read (müller → mA?ller), a UTF-8 one may
// decode the bytes twice (müller → mÃ¼ller). The echo is compared folded:
// case, width (NFKC), accents, spaces and dashes; a double-encoded echo is
// first undone. Only the comparison is folded: the card sent and the
// stableId are never altered.
//
// Folding can make two cards equal that a library keeps apart ("jorg" and
// "jörg"); the AA check only has to tell this request's reply from a stray
// one, and the sequence number does that too where error detection is on.
import { normaliseCard } from './decide.ts';

function foldCard(card: string): string {
  return normaliseCard(card.normalize('NFKD').replace(/\p{M}/gu, ''));
}

// UTF-8 bytes that were read as Latin-1 and encoded again, read back.
function undoDoubleEncoding(text: string): string | undefined {
  const codes = [...text].map((ch) => ch.codePointAt(0) ?? 0);
  if (!codes.some((c) => c >= 0x80) || codes.some((c) => c > 0xff)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(text, 'latin1'));
  } catch {
    return undefined;
  }
}

export function echoNamesCard(echo: string, card: string): boolean {
  const want = foldCard(card);
  if (foldCard(echo) === want) return true;
  const undone = undoDoubleEncoding(echo);
  return undone !== undefined && foldCard(undone) === want;
}
