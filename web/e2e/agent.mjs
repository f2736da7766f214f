// The agent flow in the browser: the agent's answer streams in with its tool calls, the
// gateway restarts mid-stream and the text still comes out whole; then the knowledge base
// the flow ingested into, and an upload from the page with per-step progress.
// Run by tests/web/test_browser.py, which passes BASE_URL, TOKEN and ARTIFACTS.
import { launch } from "./browser.mjs";
import { ask, check, done, step } from "./control.mjs";
import {
  assertNothingMissing,
  BASE_URL,
  connection,
  executionStatus,
  shot,
  signedInPage,
  startFlow,
  TIMEOUT,
} from "./helpers.mjs";

const AGENT = "refund-agent";

const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await signedInPage(context);

  step("start the agent flow; the answer streams in");
  const id = await startFlow(page, "agent_approval", { order_total: 1200 });
  const panel = page.getByTestId(`agent-${AGENT}`);
  const text = page.getByTestId(`agent-text-${AGENT}`);
  await page.locator(`[data-testid="agent-${AGENT}"][data-streaming="true"]`).waitFor({ timeout: TIMEOUT });
  await page.waitForFunction(
    (testId) => (document.querySelector(`[data-testid="${testId}"]`)?.textContent ?? "").length > 3,
    `agent-text-${AGENT}`,
    { timeout: TIMEOUT },
  );
  const partial = (await text.textContent()).replace("▍", "");
  await shot(page, "11-agent-streaming");

  step("the gateway restarts mid-stream");
  await ask({ request: "restart-gateway" });
  await connection(page, "connected");

  step("the full answer and both tool calls arrive, nothing missing");
  await page.locator(`[data-testid="agent-${AGENT}"][data-streaming="false"]`).waitFor({ timeout: TIMEOUT });
  await page.getByTestId("prompts").waitFor({ timeout: TIMEOUT });
  const events = await assertNothingMissing(page, id);
  const end = events.find((e) => e.type === "agent:streaming_end");
  const shown = await text.textContent();
  check(shown === end.data.response, `agent text ${JSON.stringify(shown)} is the response ${JSON.stringify(end.data.response)}`);
  check(
    shown.startsWith(partial) && shown.length > partial.length,
    "the stream was still going when the gateway went away, and the text grew from there",
  );
  check(shown.includes("1020"), "the calculator's result is in the answer");
  const calls = panel.locator(`[data-testid="tool-calls-${AGENT}"] li[data-status="completed"]`);
  check((await calls.count()) === 2, "both tool calls show as completed");
  await shot(page, "12-agent-done");

  step("approve; the execution completes");
  await page.getByTestId("prompt-field-yes").check();
  await page.getByTestId("prompt-submit").click();
  await executionStatus(page, "completed");

  step("the knowledge base the flow ingested into, and an upload from the page");
  const kbId = events.find((e) => e.type === "kb:upload_started").knowledgeBaseId;
  await page.goto(`${BASE_URL}/#/knowledge-bases/${encodeURIComponent(kbId)}`);
  await page.locator('[data-testid="documents"] tr[data-status="completed"]').first().waitFor({ timeout: TIMEOUT });
  await page.getByTestId("kb-upload").setInputFiles({
    name: "warranty.md",
    mimeType: "text/markdown",
    buffer: Buffer.from("# Warranty\n\nTwo years against manufacturing defects.\n".repeat(20)),
  });
  await page
    .locator('[data-testid="documents"] tr[data-status="completed"]', { hasText: "warranty.md" })
    .waitFor({ timeout: TIMEOUT });
  await shot(page, "13-knowledge-base");
  step("done");
} finally {
  await browser.close();
  done();
}
