/** A port that was free a moment ago on 127.0.0.1, outside the kernel's range for outgoing connections. */
export { freePort } from "../../scripts/ports";
