import { readConfig } from "../lib/config.js";
import { commonVars, temporalVars } from "../lib/common-config.js";

export const workerVars = {
  nodeEnv: commonVars.nodeEnv,
  logLevel: commonVars.logLevel,
  ...temporalVars,
};

export function readWorkerConfig(env: NodeJS.ProcessEnv = process.env) {
  return readConfig(workerVars, env);
}
