/**
 * A POSIX ustar archive of regular files, written the same way every time: mode 0644, uid and gid 0,
 * no user or group names, mtime 0, so the bytes depend on the file names and contents only.
 */

const BLOCK = 512;

/** Writes `value` as a NUL-terminated octal field of `width` bytes at `offset`. */
function octal(header: Buffer, offset: number, width: number, value: number): void {
  header.write(value.toString(8).padStart(width - 1, "0") + "\0", offset, width, "ascii");
}

function header(name: string, size: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name longer than 100 bytes: ${name}`);
  if (size > 0o77777777777) throw new Error(`tar: ${name} is larger than ustar holds (8 GiB)`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "utf8");
  octal(h, 100, 8, 0o644); // mode
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, 0); // mtime
  h.write("0", 156, 1, "ascii"); // typeflag: regular file
  h.write("ustar\0" + "00", 257, 8, "ascii"); // magic and version
  // The checksum is the byte sum with its own field read as eight spaces: six octal digits, NUL, space.
  h.fill(" ", 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "ascii");
  return h;
}

/** A tar archive holding `files` in the order given, ended by the two zero blocks ustar requires. */
export function tar(files: Array<{ name: string; data: Uint8Array }>): Buffer {
  const parts: Buffer[] = [];
  for (const { name, data } of files) {
    parts.push(header(name, data.length), Buffer.from(data), Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}
