// A fresh app built from the npm tarballs (tests/web/test_packages.py) watches an execution
// and answers its prompt in Chromium. APP_URL is the app (vite preview, proxying the gateway).
import { launch } from "./browser.mjs";
import { check, done, step } from "./control.mjs";
import { shot, TIMEOUT } from "./helpers.mjs";

const browser = await launch();
try {
  const page = await browser.newPage();
  page.on("pageerror", (err) => step(`page error: ${err.message}`));
  step(`open ${process.env.APP_NAME}`);
  await page.goto(process.env.APP_URL);
  const app = page.getByTestId("app");
  await page.locator('[data-testid="app"][data-connection="connected"]').waitFor({ timeout: TIMEOUT });
  step(`React ${await app.getAttribute("data-react")}`);
  check((await app.getAttribute("data-react")).startsWith(process.env.REACT_MAJOR + "."), "the app's own React");
  await page.locator('[data-testid="app"][data-status="waiting"]').waitFor({ timeout: TIMEOUT });
  await shot(page, `40-${process.env.APP_NAME}-waiting`);
  step("answer the prompt");
  await page.getByTestId("approve").click();
  await page.locator('[data-testid="app"][data-status="completed"]').waitFor({ timeout: TIMEOUT });
  check((await page.getByTestId("approve").count()) === 0, "the prompt closed");
  await shot(page, `41-${process.env.APP_NAME}-completed`);
  step("done");
} finally {
  await browser.close();
  done();
}
