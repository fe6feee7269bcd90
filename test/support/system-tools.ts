/** Installs the system tools a test needs when the machine lacks them (Java with Maven, Go). */
export { ensureTool, onPath } from "../../scripts/system-tools";
