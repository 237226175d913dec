import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

// The GUI is served by the binary under /gui/ (internal/httpapi/gui.go). The build is
// committed (dist/) and must be reproducible: hashed names, no source maps, no dates.
export default defineConfig({
  base: '/gui/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8686', '/track': 'http://127.0.0.1:8686' },
  },
})
