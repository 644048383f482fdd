const strict = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes git's raw path bytes. Valid UTF-8 stays as it is; anything else keeps every byte,
 * with the invalid ones written as `\xNN`, so distinct byte strings stay distinct and printable.
 */
export function decodePath(bytes: Buffer): string {
  try {
    return strict.decode(bytes);
  } catch {
    let out = '';
    for (const byte of bytes) out += byte < 0x80 ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
    return out;
  }
}
