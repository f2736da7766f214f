// A workflow of your own (examples/own_workflow, with FlowMaestroPlugin) in the demo UI: the
// graph grows as its activities run, progress, the streamed summary, the retried charge, the
// custom event, and the approval prompt answered from the page.
// Run by tests/web/test_own_workflow_browser.py, which passes BASE_URL, TOKEN and ARTIFACTS.
import { launch } from "./browser.mjs";
import { ask, check, done, step } from "./control.mjs";
import {
  assertNothingMissing,
  BASE_URL,
  connection,
  executionStatus,
  nodeStatus,
  shot,
  signedInPage,
  TIMEOUT,
} from "./helpers.mjs";

const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1300, height: 1000 } });
  const page = await signedInPage(context);

  step("an order started with `python run_workflow.py` appears in the list, live; open it");
  await page.goto(`${BASE_URL}/#/executions`);
  await connection(page, "connected");
  const { executionId } = await ask({ request: "start-order" });
  const row = page.getByTestId(`execution-row-${executionId}`);
  await row.waitFor({ timeout: TIMEOUT });
  check(((await row.textContent()) ?? "").includes("OrderWorkflow"), "listed as an OrderWorkflow");
  await row.locator("a.id-link").click();
  await page.getByTestId("execution").waitFor({ timeout: TIMEOUT });

  step("the graph grows as the activities run; each node after the one before it");
  await nodeStatus(page, "reserve_stock", "completed");
  await nodeStatus(page, "write_summary", "completed");
  await page.locator('[data-edge="reserve_stock->write_summary"]').waitFor({ state: "attached", timeout: TIMEOUT });
  await nodeStatus(page, "approve", "waiting");
  await page.locator('[data-edge="write_summary->approve"]').waitFor({ state: "attached", timeout: TIMEOUT });

  step("reserve_stock's progress and write_summary's streamed text are shown");
  const ring = page.locator('[data-testid="node-reserve_stock"] .ring-fill');
  check((await ring.getAttribute("data-progress")) === "100", "reserve_stock's ring is full");
  const logged = await page.locator("ol.events li").allTextContents();
  check(logged.filter((t) => t.includes("node:progress")).length === 3, `three progress events in ${logged}`);
  const text = page.getByTestId("agent-text-summary");
  await page.locator('[data-testid="agent-summary"][data-streaming="false"]').waitFor({ timeout: TIMEOUT });
  const summary = (await text.textContent()) ?? "";
  check(summary.startsWith(`Order `) && summary.includes("keyboard, mouse, cable"), `the summary streamed: ${summary}`);
  check((await page.getByTestId("tool-calls-summary").locator("li").count()) === 1, "one tool call");
  await shot(page, "30-own-workflow-waiting");

  step("the approval prompt is answered from the page");
  await page.getByTestId("prompts").waitFor({ timeout: TIMEOUT });
  await page.getByTestId("prompt-field-yes").check();
  await page.getByTestId("prompt-submit").click();
  await page.getByTestId("prompts").waitFor({ state: "detached", timeout: TIMEOUT });
  await nodeStatus(page, "approve", "completed");

  step("charge_payment fails once and is retried; its custom event shows");
  await nodeStatus(page, "charge_payment", "completed");
  check((await page.getByTestId("retry-badge-charge_payment").getAttribute("data-retries")) === "1", "one retry");
  const custom = page.locator('[data-testid="app-event"][data-type="app:payment.captured"]');
  await custom.waitFor({ timeout: TIMEOUT });
  check(((await custom.textContent()) ?? "").includes('"attempts":2'), "the custom event's data");
  await executionStatus(page, "completed");
  await assertNothingMissing(page, executionId);
  await shot(page, "31-own-workflow-completed");
} finally {
  await browser.close();
}
step("done");
done();
