// What the browser scripts share: waits on the UI's test ids, screenshots, server checks.
import { mkdir } from "node:fs/promises";
import { check } from "./control.mjs";

export const BASE_URL = process.env.BASE_URL;
export const TOKEN = process.env.TOKEN;
export const ARTIFACTS = process.env.ARTIFACTS ?? "test-artifacts/browser";
export const TIMEOUT = Number(process.env.STEP_TIMEOUT_MS ?? 30_000);
await mkdir(ARTIFACTS, { recursive: true });

export const shot = (page, name) => page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });

export const nodeStatus = (page, id, status) =>
  page.locator(`[data-testid="node-${id}"][data-status="${status}"]`).waitFor({ timeout: TIMEOUT });

export const executionStatus = (page, status) =>
  page.locator(`[data-testid="execution"][data-status="${status}"]`).waitFor({ timeout: TIMEOUT });

export const connection = (page, state) =>
  page.locator(`[data-testid="connection"]`, { hasText: state }).waitFor({ timeout: TIMEOUT });

/** A page already signed in (the token in localStorage, as the sign-in form leaves it). */
export async function signedInPage(context) {
  await context.addInitScript((token) => localStorage.setItem("flowmaestro.token", token), TOKEN);
  const page = await context.newPage();
  page.on("pageerror", (err) => process.stdout.write(`-- page error: ${err.message}\n`));
  return page;
}

export async function startFlow(page, flow, inputs) {
  await page.goto(`${BASE_URL}/#/executions`);
  await page.getByTestId("flow").fill(flow);
  await page.getByTestId("inputs").fill(JSON.stringify(inputs));
  await page.getByTestId("start").click();
  await page.waitForURL(/#\/executions\/ex_/, { timeout: TIMEOUT });
  return decodeURIComponent(new URL(page.url()).hash.split("/")[2]);
}

/** The execution's events as the server has them (the HTTP catch-up endpoint). */
export function serverEvents(page, executionId) {
  return page.evaluate(
    async ([id, token]) => {
      const r = await fetch(`/api/executions/${id}/events?after=0&limit=5000`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      return (await r.json()).events;
    },
    [executionId, TOKEN],
  );
}

/** The page shows exactly the server's events (by position) and every node they name; an
 * agent's tokens are not kept once its stream has ended (its text has them). */
export async function assertNothingMissing(page, executionId) {
  const events = await serverEvents(page, executionId);
  const ended = new Set(events.filter((e) => e.type === "agent:streaming_end").map((e) => e.agentId));
  const kept = events.filter((e) => !(e.type === "agent:token" && ended.has(e.agentId)));
  const shown = await page.locator("ol.events li code").allTextContents();
  const want = kept.map((e) => String(e.position)).join(",");
  check(shown.join(",") === want, `page shows events ${shown.join(",")}, server has ${want}`);
  const nodes = [...new Set(events.filter((e) => e.type.startsWith("node:")).map((e) => e.data.nodeId))];
  for (const id of nodes) {
    check((await page.locator(`[data-testid="node-${id}"]`).count()) === 1, `node ${id} is shown`);
  }
  return events;
}
