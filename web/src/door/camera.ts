/**
 * The scanner's camera: the back camera's video (getUserMedia), a frame drawn to an off-screen
 * canvas a few times a second, and jsQR looking for a QR code in it. Frames are read only while
 * the page is visible (requestAnimationFrame stops in a hidden tab, and the loop checks too), at
 * a modest rate so that a phone stays cool, and scaled down to at most 640 pixels wide. jsQR
 * (about 130 kB) loads with the first start of the camera, not with the page.
 */
import type jsQRType from "jsqr";
import { useCallback, useEffect, useRef, useState, type RefObject } from "react";

/** At most this many decodes a second (a code is in view for a second or more). */
const DECODE_INTERVAL_MS = 150;
const MAX_FRAME_WIDTH = 640;

export type CameraState = { status: "off" } | { status: "starting" } | { status: "on" } | { status: "failed"; message: string };

export interface QrCamera {
  videoRef: RefObject<HTMLVideoElement | null>;
  state: CameraState;
  start(): void;
  stop(): void;
}

function cameraProblem(err: unknown): string {
  const name = err instanceof DOMException ? err.name : "";
  if (name === "NotAllowedError") return "The camera is not allowed for this page. Allow it in the browser's site settings, or type the codes.";
  if (name === "NotFoundError" || name === "OverconstrainedError") return "No camera was found. Type or paste the codes instead.";
  if (name === "NotReadableError") return "The camera is in use by another app.";
  if (!navigator.mediaDevices?.getUserMedia) return "This browser cannot use the camera here (it needs HTTPS). Type or paste the codes instead.";
  return `The camera could not start${err instanceof Error && err.message ? `: ${err.message}` : ""}.`;
}

/** Calls `onCode` with the text of every QR code it sees (repeatedly, while one stays in view). */
export function useQrCamera(onCode: (text: string) => void): QrCamera {
  const videoRef = useRef<HTMLVideoElement | null>(null);
  /** 0 while off; each start is a new run (so that a failed start can be tried again). */
  const [run, setRun] = useState(0);
  const [state, setState] = useState<CameraState>({ status: "starting" });
  const onCodeRef = useRef(onCode);
  useEffect(() => {
    onCodeRef.current = onCode;
  }, [onCode]);

  useEffect(() => {
    if (run === 0) return;
    let stream: MediaStream | undefined;
    let frame = 0;
    let stopped = false;
    let lastDecode = 0;
    let codesRead = 0;
    let jsQR: typeof jsQRType | undefined;
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });

    const tick = (now: number) => {
      frame = requestAnimationFrame(tick);
      const video = videoRef.current;
      if (document.visibilityState !== "visible" || now - lastDecode < DECODE_INTERVAL_MS) return;
      if (!jsQR || !context || !video || video.readyState < video.HAVE_CURRENT_DATA || video.videoWidth === 0) return;
      lastDecode = now;
      const scale = Math.min(1, MAX_FRAME_WIDTH / video.videoWidth);
      const width = Math.round(video.videoWidth * scale);
      const height = Math.round(video.videoHeight * scale);
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }
      context.drawImage(video, 0, 0, width, height);
      const image = context.getImageData(0, 0, width, height);
      // tickets are dark on light: the inverted pass would double the work for nothing
      const code = jsQR(image.data, width, height, { inversionAttempts: "dontInvert" });
      if (!code?.data) return;
      // how many times a code was read, for the browser test (a code held up is read many times, checked in once)
      video.dataset.codesRead = String(++codesRead);
      onCodeRef.current(code.data);
    };

    const start = async () => {
      setState({ status: "starting" });
      const reader = import("jsqr").then((m) => m.default);
      reader.catch(() => undefined); // awaited below, once the camera is on
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      } catch (err) {
        if (!stopped) setState({ status: "failed", message: cameraProblem(err) });
        return;
      }
      try {
        jsQR = await reader;
      } catch {
        stream.getTracks().forEach((t) => t.stop());
        if (!stopped) setState({ status: "failed", message: "The code reader could not be loaded. Reload the page, or type the codes." });
        return;
      }
      const video = videoRef.current;
      if (stopped || !video) {
        stream.getTracks().forEach((t) => t.stop());
        return;
      }
      video.srcObject = stream;
      try {
        await video.play();
      } catch {
        // autoplay of a muted inline video is allowed; a refusal here means the element went away
      }
      if (stopped) return;
      setState({ status: "on" });
      frame = requestAnimationFrame(tick);
    };
    void start();

    return () => {
      stopped = true;
      cancelAnimationFrame(frame);
      stream?.getTracks().forEach((t) => t.stop());
      const video = videoRef.current;
      if (video) video.srcObject = null;
    };
  }, [run]);

  const start = useCallback(() => setRun((n) => n + 1), []);
  const stop = useCallback(() => setRun(0), []);
  return { videoRef, state: run === 0 ? { status: "off" } : state, start, stop };
}
