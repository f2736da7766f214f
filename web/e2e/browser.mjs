// Debian's Chromium driven by playwright-core (no browser download is possible here).
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.FLOWMAESTRO_CHROMIUM ?? "/usr/bin/chromium";

export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
