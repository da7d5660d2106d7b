import { resolve } from "node:path";
import { defineConfig } from "vite";

// `vite build` → dist/ (what the app embeds). `vite build --mode test` →
// dist-test/ with mock.html too: the same UI over the mocked backend.
export default defineConfig(({ mode }) => ({
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: {
    target: "es2022",
    outDir: mode === "test" ? "dist-test" : "dist",
    emptyOutDir: true,
    rollupOptions: {
      input:
        mode === "test"
          ? { main: resolve(__dirname, "index.html"), mock: resolve(__dirname, "mock.html") }
          : { main: resolve(__dirname, "index.html") },
    },
  },
}));
