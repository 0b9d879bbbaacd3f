// The UI is served by dockmon-server from assets embedded in its binary: plain files, hashed names,
// no inline scripts (the server's Content-Security-Policy allows only its own scripts).
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
