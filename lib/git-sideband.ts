/**
 * The pack inside an upload-pack response, as it streams by. The response is pkt-lines
 * (4 hex digits of length, then the payload): first the ACK/NAK and shallow lines, then,
 * with side-band-64k (isomorphic-git asks for it), lines whose first byte is the band:
 * 1 pack data, 2 progress, 3 an error. Those bands are never letters, so the two parts
 * are told apart line by line. A server without side-band sends the raw pack after its
 * ACK/NAK lines: once "PACK" stands where a length should be, the rest is pack.
 */
export class SidebandPackReader {
  private buffered = Buffer.alloc(0);
  private raw = false;

  /** Takes the next bytes of the response; returns the pack bytes they carry, in order. */
  push(chunk: Buffer): Buffer[] {
    if (this.raw) return [chunk];
    let data = this.buffered.length > 0 ? Buffer.concat([this.buffered, chunk]) : chunk;
    const pack: Buffer[] = [];
    while (data.length >= 4) {
      const head = data.toString('latin1', 0, 4);
      if (head === 'PACK') {
        this.raw = true;
        pack.push(data);
        data = Buffer.alloc(0);
        break;
      }
      if (!/^[0-9a-f]{4}$/i.test(head)) throw new Error(`the git server's answer is not pkt-lines (${JSON.stringify(head)})`);
      const length = Number.parseInt(head, 16);
      if (length < 4) {
        // flush (0000), delim (0001), response-end (0002): no payload
        data = data.subarray(4);
        continue;
      }
      if (data.length < length) break;
      const payload = data.subarray(4, length);
      if (payload[0] === 1) pack.push(payload.subarray(1));
      data = data.subarray(length);
    }
    // Keeps at most one unfinished pkt-line (65,520 bytes with side-band-64k).
    this.buffered = Buffer.from(data);
    return pack;
  }
}
