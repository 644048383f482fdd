/** True when progress bars and colours make sense: an interactive terminal that is not CI. */
export function isInteractive(stream: NodeJS.WriteStream = process.stderr): boolean {
  if (process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false') return false;
  return stream.isTTY;
}
