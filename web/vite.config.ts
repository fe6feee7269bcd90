/**
 * The browser app's build (`npm run build:web` → web/dist) and dev server (`npm run dev:web`).
 * The app talks to the gateway only: in development Vite proxies the API, Connect procedures and
 * /app-config.json to it (GATEWAY_URL, default http://127.0.0.1:8080, i.e. `npm start`).
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { protovalidateDescriptorStub } from "./build/protovalidate-stub.ts";

const gateway = process.env.GATEWAY_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react(), protovalidateDescriptorStub()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // hashed file names under one prefix: the gateway serves them with immutable caching
    assetsDir: "assets",
    target: "es2022",
    sourcemap: true,
  },
  server: {
    port: 5173,
    strictPort: false,
    proxy: {
      // Connect procedures (/<package>.<Service>/<Method>), REST, and the app's runtime config
      "^/ticketing\\.": { target: gateway, changeOrigin: false },
      "/api": { target: gateway },
      "/app-config.json": { target: gateway },
      "/healthz": { target: gateway },
    },
    fs: { allow: [".."] },
  },
});
