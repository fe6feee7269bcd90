/**
 * A fake camera's video showing one QR code, for Chromium's
 * `--use-file-for-fake-video-capture`: YUV4MPEG2 (4:2:0), the code's modules black on white with
 * the quiet zone the QR standard asks for, centred in a 640×480 frame. Chromium plays the file
 * in a loop, so the code stays in view for as long as the camera runs.
 */
import * as fs from "node:fs";
import QRCode from "qrcode";

export const VIDEO_WIDTH = 640;
export const VIDEO_HEIGHT = 480;
const QUIET_ZONE = 4;
/** Video levels: black 16, white 235 (BT.601). */
const DARK = 16;
const LIGHT = 235;

/** The Y (luma) plane of one frame: the code of `text`, as large as fits with its quiet zone. */
export function qrLumaPlane(text: string): Uint8Array {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: "M" });
  const n = modules.size;
  const scale = Math.floor((VIDEO_HEIGHT - 40) / (n + 2 * QUIET_ZONE));
  const side = (n + 2 * QUIET_ZONE) * scale;
  const left = Math.floor((VIDEO_WIDTH - side) / 2);
  const top = Math.floor((VIDEO_HEIGHT - side) / 2);
  const y = new Uint8Array(VIDEO_WIDTH * VIDEO_HEIGHT).fill(LIGHT);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      if (!modules.get(row, col)) continue;
      const y0 = top + (row + QUIET_ZONE) * scale;
      const x0 = left + (col + QUIET_ZONE) * scale;
      for (let dy = 0; dy < scale; dy++) y.fill(DARK, (y0 + dy) * VIDEO_WIDTH + x0, (y0 + dy) * VIDEO_WIDTH + x0 + scale);
    }
  }
  return y;
}

/** Writes `frames` identical frames of the code of `text` to `file`. */
export function writeQrVideo(file: string, text: string, frames = 5): void {
  const luma = qrLumaPlane(text);
  const chroma = new Uint8Array((VIDEO_WIDTH / 2) * (VIDEO_HEIGHT / 2)).fill(128); // U = V = 128: grey, no colour
  const header = Buffer.from(`YUV4MPEG2 W${VIDEO_WIDTH} H${VIDEO_HEIGHT} F10:1 Ip A1:1 C420jpeg\n`, "ascii");
  const frameHeader = Buffer.from("FRAME\n", "ascii");
  const parts: Uint8Array[] = [header];
  for (let i = 0; i < frames; i++) parts.push(frameHeader, luma, chroma, chroma);
  fs.writeFileSync(file, Buffer.concat(parts));
}
