/**
 * Reading QR codes back in tests with an independent decoder (jsQR, the one the scanner page
 * uses): from a PNG (pngjs), and from the SVG the API returns, rasterised here from its path.
 */
import jsQR from "jsqr";
import { PNG } from "pngjs";

/** The text of the QR code in a PNG, or undefined when jsQR finds none. */
export function decodePng(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height)?.data;
}

/**
 * The dark modules of an SVG made by `qrcode` (`<path stroke=… d="M4 4.5h7m1 0h1…">`: one
 * horizontal stroke per run of dark modules, half a module below the row's top), drawn at
 * `scale` pixels per module as RGBA and decoded with jsQR.
 */
export function decodeSvg(svg: string, scale = 4): string | undefined {
  const size = Number(/viewBox="0 0 (\d+) \1"/.exec(svg)?.[1]);
  const d = /<path stroke="[^"]*" d="([^"]+)"/.exec(svg)?.[1];
  if (!size || !d) throw new Error("not an SVG of the qrcode package");
  const dark = Array.from({ length: size }, () => new Uint8Array(size));
  let x = 0;
  let y = 0;
  for (const [, cmd, args] of d.matchAll(/([MmHh])([^MmHh]*)/g)) {
    const n = args.trim().split(/[\s,]+/).map(Number);
    if (cmd === "M") [x, y] = n;
    else if (cmd === "m") [x, y] = [x + n[0], y + n[1]];
    else {
      const to = cmd === "h" ? x + n[0] : n[0];
      for (let col = x; col < to; col++) dark[Math.floor(y)][col] = 1;
      x = to;
    }
  }
  const px = size * scale;
  const rgba = new Uint8ClampedArray(px * px * 4);
  for (let py = 0; py < px; py++) {
    for (let pxx = 0; pxx < px; pxx++) {
      const v = dark[Math.floor(py / scale)][Math.floor(pxx / scale)] ? 0 : 255;
      rgba.set([v, v, v, 255], (py * px + pxx) * 4);
    }
  }
  return jsQR(rgba, px, px)?.data;
}
